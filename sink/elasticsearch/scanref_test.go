package elasticsearch

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// The previous, recursive line validator (before the single-pass iterative
// scanLine), kept as a second oracle and benchmark baseline: FuzzScanLine
// checks that both agree on event.id for documents it can judge.

// refScanner validates one JSON document in a single pass and picks up
// event.id on the way. It is a strict RFC 8259 recogniser (what json.Valid
// accepts), several times faster than json.Valid for log lines.
type refScanner struct {
	b   []byte
	i   int
	id  []byte
	err string
}

// refScanLine validates line as one JSON object and returns its event.id (raw,
// still escaped; nil if none) or a reason it is invalid.
func refScanLine(line []byte) (id []byte, reason string) {
	s := refScanner{b: line}
	s.ws()
	if s.i >= len(s.b) {
		return nil, "empty line"
	}
	if s.b[s.i] != '{' {
		return nil, "not a JSON object"
	}
	if !s.object(1) {
		if s.err == "newline inside the document" {
			return nil, "not valid NDJSON: " + s.err
		}
		return nil, "not valid JSON: " + s.err + " at offset " + strconv.Itoa(s.i)
	}
	s.ws()
	if s.err != "" {
		return nil, "not valid NDJSON: " + s.err
	}
	if s.i != len(s.b) {
		return nil, "not valid JSON: data after the object at offset " + strconv.Itoa(s.i)
	}
	return s.id, ""
}

func (s *refScanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r':
			s.i++
		case '\n':
			// a raw newline between tokens would split the NDJSON line
			s.i++
			if s.err == "" {
				s.err = "newline inside the document"
			}
		default:
			return
		}
	}
}

func (s *refScanner) fail(msg string) bool {
	if s.err == "" {
		s.err = msg
	}
	return false
}

const refMaxDepth = 1000 // (its own odd depth accounting)

// object parses an object at s.b[s.i] == '{'. level 1 is the document, 2 is
// a top-level member's object.
func (s *refScanner) object(level int) bool {
	if level > refMaxDepth {
		return s.fail("nested too deeply")
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return s.err == ""
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail("expected a member name")
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("expected ':'")
		}
		s.i++
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("unexpected end")
		}
		switch {
		case level == 1 && s.b[s.i] == '{' && string(key) == "event":
			if !s.object(2) {
				return false
			}
		case level == 2 && s.b[s.i] == '"' && string(key) == "id":
			v, ok := s.str()
			if !ok {
				return false
			}
			if len(v) > 0 {
				s.id = v
			}
		case level == 1 && s.b[s.i] == '"' && string(key) == "event.id":
			v, ok := s.str()
			if !ok {
				return false
			}
			if len(v) > 0 && s.id == nil {
				s.id = v
			}
		default:
			if !s.value(level + 1) {
				return false
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("unexpected end")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return s.err == ""
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *refScanner) value(level int) bool {
	if s.i >= len(s.b) {
		return s.fail("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		// nested objects other than "event" must not be mistaken for it
		return s.object(level + 2)
	case c == '[':
		if level > refMaxDepth {
			return s.fail("nested too deeply")
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			s.ws()
			if !s.value(level + 2) {
				return false
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.fail("unexpected end")
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == ']' {
				s.i++
				return true
			}
			return s.fail("expected ',' or ']'")
		}
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.num()
	default:
		return s.fail("unexpected character")
	}
}

func (s *refScanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return s.fail("invalid literal")
}

func (s *refScanner) num() bool {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return s.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			s.i = i
			return s.fail("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			s.i = i
			return s.fail("invalid number")
		}
	}
	s.i = i
	return true
}

// str parses a string at s.b[s.i] == '"' and returns its raw contents.
func (s *refScanner) str() ([]byte, bool) {
	b := s.b
	start := s.i + 1
	i := start
	var hi uint64 // high bits seen: non-ASCII bytes to check as UTF-8
	for {
		// 8 bytes at a time while none is '"', '\\' or a control byte
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			bs := x ^ (lsb * '\\')
			if ((q-lsb)&^q|(bs-lsb)&^bs|(x&^msb-lsb*0x20)&^x)&msb != 0 {
				break
			}
			hi |= x
			i += 8
		}
		for i < len(b) && !strSpecial[b[i]] {
			hi |= uint64(b[i])
			i++
		}
		if i >= len(b) {
			s.i = i
			return nil, s.fail("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			raw := b[start:i]
			s.i = i + 1
			if hi&msb != 0 {
				if !utf8.Valid(raw) {
					return nil, s.fail("invalid UTF-8 in string")
				}
			}
			return raw, true
		case c == '\\':
			if i+1 >= len(b) {
				s.i = i
				return nil, s.fail("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					s.i = i
					return nil, s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.i = i
				return nil, s.fail("invalid escape")
			}
		default: // control character
			s.i = i
			return nil, s.fail("control character in string")
		}
	}
}
