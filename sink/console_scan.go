package sink

import (
	"unicode/utf16"
	"unicode/utf8"
)

// consoleScan is what one forward pass over an NDJSON line finds for the
// console: where the values it shows are (raw JSON, decoded only when
// written) and the leaves of the Pipelog object with their dotted paths.
//
// The pass validates the line as encoding/json does (grammar, escapes,
// nesting depth up to 10,000; invalid UTF-8 is accepted and becomes U+FFFD
// when decoded), so that a line the console used to reject as not JSON is
// still written as it is. A key that appears twice counts once, the last
// time, as it did when lines were decoded into maps.
type consoleScan struct {
	line []byte

	ts, level, message   span // top-level values
	action               span // event.action
	traceID              span // trace.id
	errMessage, errStack span // error.message, error.stack_trace

	leaves []consoleLeaf // Pipelog's leaves, in order
	paths  []byte        // their dotted paths, decoded, one after another
	cur    []byte        // the path of the Pipelog object being walked
	key    []byte        // the last key that needed decoding
}

// span is line[start:end], one raw JSON value; end 0 means absent (no
// value of a line starts at 0, where its '{' is).
type span struct{ start, end int }

func (v span) present() bool { return v.end > 0 }

// consoleLeaf is one leaf of Pipelog: its path in paths, its value in the
// line.
type consoleLeaf struct{ path, value span }

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// What object is walking: which keys it records.
const (
	objOther = iota
	objTop
	objEvent
	objTrace
	objError
	objPipelog
)

// scan reads line and reports whether it is one JSON object (with optional
// surrounding whitespace). The spans it records stay valid while line is.
func (s *consoleScan) scan(line []byte) bool {
	*s = consoleScan{line: line, leaves: s.leaves[:0], paths: s.paths[:0], cur: s.cur[:0], key: s.key[:0]}
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	end, ok := s.object(i, 1, objTop)
	return ok && skipSpace(line, end) == len(line)
}

// reset drops scratch buffers that one huge line grew.
func (s *consoleScan) reset() {
	s.line = nil
	if cap(s.paths)+cap(s.cur)+cap(s.key) > maxScratch || cap(s.leaves) > maxScratch/32 {
		*s = consoleScan{}
	}
}

// object walks the object at line[i] == '{', depth levels deep (the line's
// own object is 1), and returns the index past it.
func (s *consoleScan) object(i, depth, kind int) (int, bool) {
	b := s.line
	i, more := opening(b, i, '}')
	if depth > maxDepth {
		return 0, false
	}
	for more {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		kEnd, plain, ok := scanString(b, i)
		if !ok {
			return 0, false
		}
		key := b[i+1 : kEnd-1]
		if !plain {
			s.key = appendUnquoted(s.key[:0], key)
			key = s.key
		}
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if kind == objOther {
			i, ok = s.value(i, depth)
		} else {
			i, ok = s.member(kind, key, i, depth)
		}
		if !ok {
			return 0, false
		}
		if i, more, ok = closing(b, i, '}'); !ok {
			return 0, false
		}
	}
	return i, true
}

// member walks the value at line[i] of the member key of an object of
// kind, recording what the console shows.
func (s *consoleScan) member(kind int, key []byte, i, depth int) (int, bool) {
	switch kind {
	case objTop:
		switch string(key) {
		case "@timestamp":
			return s.record(&s.ts, i, depth)
		case "log.level":
			return s.record(&s.level, i, depth)
		case "message":
			return s.record(&s.message, i, depth)
		case "event":
			s.action = span{}
			return s.inner(i, depth, objEvent)
		case "trace":
			s.traceID = span{}
			return s.inner(i, depth, objTrace)
		case "error":
			s.errMessage, s.errStack = span{}, span{}
			return s.inner(i, depth, objError)
		case "Pipelog":
			s.leaves, s.paths, s.cur = s.leaves[:0], s.paths[:0], s.cur[:0]
			return s.inner(i, depth, objPipelog)
		}
	case objEvent:
		if string(key) == "action" {
			return s.record(&s.action, i, depth)
		}
	case objTrace:
		if string(key) == "id" {
			return s.record(&s.traceID, i, depth)
		}
	case objError:
		switch string(key) {
		case "message":
			return s.record(&s.errMessage, i, depth)
		case "stack_trace":
			return s.record(&s.errStack, i, depth)
		}
	case objPipelog:
		return s.pipelog(key, i, depth)
	}
	return s.value(i, depth)
}

// record walks a value and keeps its span in v.
func (s *consoleScan) record(v *span, i, depth int) (int, bool) {
	end, ok := s.value(i, depth)
	*v = span{i, end}
	return end, ok
}

// inner walks a value whose members of interest are kind's when it is an
// object; any other value has none.
func (s *consoleScan) inner(i, depth, kind int) (int, bool) {
	if i < len(s.line) && s.line[i] == '{' {
		return s.object(i, depth+1, kind)
	}
	return s.value(i, depth)
}

// pipelog walks one member of the Pipelog object (or of an object inside
// it): objects are flattened, every other value is a leaf at the dotted
// path.
func (s *consoleScan) pipelog(key []byte, i, depth int) (int, bool) {
	parent := len(s.cur)
	if parent > 0 {
		s.cur = append(s.cur, '.')
	}
	s.cur = append(s.cur, key...)
	var end int
	var ok bool
	if i < len(s.line) && s.line[i] == '{' {
		end, ok = s.object(i, depth+1, objPipelog)
	} else {
		end, ok = s.value(i, depth)
		p := len(s.paths)
		s.paths = append(s.paths, s.cur...)
		s.leaves = append(s.leaves, consoleLeaf{path: span{p, len(s.paths)}, value: span{i, end}})
	}
	s.cur = s.cur[:parent]
	return end, ok
}

// value skips the JSON value at line[i], checking it, and returns the index
// past it. depth is that of the object or array holding it.
func (s *consoleScan) value(i, depth int) (int, bool) {
	b := s.line
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case c == '{':
		return s.object(i, depth+1, objOther)
	case c == '[':
		return s.array(i, depth+1)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(b, i)
	}
	return 0, false
}

// array skips the array at line[i] == '['.
func (s *consoleScan) array(i, depth int) (int, bool) {
	b := s.line
	i, more := opening(b, i, ']')
	if depth > maxDepth {
		return 0, false
	}
	for more {
		var ok bool
		if i, ok = s.value(i, depth); !ok {
			return 0, false
		}
		if i, more, ok = closing(b, i, ']'); !ok {
			return 0, false
		}
	}
	return i, true
}

// opening steps into the object or array whose bracket is at b[i]: more is
// false when it closes at once (then next is past it).
func opening(b []byte, i int, end byte) (next int, more bool) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == end {
		return i + 1, false
	}
	return i, true
}

// closing reads what follows an item of an object or array: a comma (more
// is true and next is the next item) or its closing bracket (next is past
// it).
func closing(b []byte, i int, end byte) (next int, more, ok bool) {
	i = skipSpace(b, i)
	if i < len(b) {
		switch b[i] {
		case ',':
			return skipSpace(b, i+1), true, true
		case end:
			return i + 1, false, true
		}
	}
	return 0, false, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// scanNumber checks the number at b[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// plainByte marks the bytes a JSON string holds as they are and that need
// no decoding: printable ASCII but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString checks the string at b[i] == '"' and returns the index past
// its closing quote. plain reports that its content decodes to itself (no
// escape, no byte above ASCII).
func scanString(b []byte, i int) (end int, plain, ok bool) {
	plain = true
	j := i + 1
	for j < len(b) {
		c := b[j]
		if plainByte[c] {
			j++
			continue
		}
		switch {
		case c == '"':
			return j + 1, plain, true
		case c == '\\':
			plain = false
			if j+1 >= len(b) {
				return 0, false, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if hex4(b[j+2:]) < 0 {
					return 0, false, false
				}
				j += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		default: // above ASCII: kept, or U+FFFD when not UTF-8
			plain = false
			j++
		}
	}
	return 0, false, false
}

// hex4 decodes the four hex digits that start b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendUnquoted appends the decoded content of a checked JSON string (s is
// what lies between its quotes), as encoding/json decodes it: a lone or
// broken surrogate escape and each byte that is not UTF-8 become U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' && c < utf8.RuneSelf {
			j := i + 1
			for j < len(s) && s[j] != '\\' && s[j] < utf8.RuneSelf {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
					if pair := utf16.DecodeRune(r, hex4(s[i+2:])); pair != utf8.RuneError {
						dst = utf8.AppendRune(dst, pair)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}
