package elasticsearch

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strSpecial marks the bytes that end the fast path inside a JSON string.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanLine validates line as one JSON object on one line in valid UTF-8 (a
// strict RFC 8259 recogniser: exactly what json.Valid accepts, including its
// nesting limit, plus those rules) and returns the document's event.id (raw,
// still escaped; nil if none) or a reason it is invalid. It never allocates
// on success.
//
// event.id is the last non-empty string member "id" of a top-level object
// member "event"; failing that, the first non-empty top-level string member
// "event.id" (the dotted form).
//
// It is one loop, one turn per value, with the open containers as a bit
// stack rather than recursion: the position stays in a register, which
// makes it several times faster than json.Valid on log lines.
func scanLine(b []byte) (id []byte, reason string) {
	n := len(b)
	i := skipSpace(b, 0)
	switch {
	case i >= n:
		return nil, "empty line"
	case b[i] == '\n':
		return nil, invalid(b, i, "")
	case b[i] != '{':
		return nil, "not a JSON object"
	}
	// The containers around b[i]: how many, whether the innermost is an
	// array, and all of them.
	depth, inArray := 0, false
	var stack bitStack
	inEvent := false       // the open depth-2 container is the object "event"
	idStart, idEnd := 0, 0 // event.id is b[idStart:idEnd] (ints: fewer registers than a slice)
	for {
		// b[i] starts an element of the innermost container (or, at
		// depth 0, the document); a member begins with its name.
		name, nameEnd := 0, 0 // a member's name is b[name:nameEnd]
		if depth > 0 && !inArray {
			if b[i] != '"' {
				return nil, invalid(b, i, "expected a member name")
			}
			end := shortString(b, i)
			if end < 0 {
				var msg string
				if end, msg = scanJSONString(b, i); msg != "" {
					return nil, invalid(b, end, msg)
				}
			}
			name, nameEnd = i+1, end-1
			i = skipSpace(b, end)
			if i >= n || b[i] != ':' {
				return nil, invalid(b, i, "expected ':'")
			}
			if i = skipSpace(b, i+1); i >= n {
				return nil, invalid(b, i, "unexpected end")
			}
		}

		// The value.
		// (strings first: the most common values)
		switch c := b[i]; {
		case c == '"':
			end := shortString(b, i)
			if end < 0 {
				var msg string
				if end, msg = scanJSONString(b, i); msg != "" {
					return nil, invalid(b, end, msg)
				}
			}
			if depth <= 2 && end-i > 2 { // a non-empty string near the top
				switch {
				case depth == 2 && inEvent && string(b[name:nameEnd]) == "id":
					idStart, idEnd = i+1, end-1
				case depth == 1 && idEnd == 0 && string(b[name:nameEnd]) == "event.id":
					idStart, idEnd = i+1, end-1
				}
			}
			i = end
		case c == '{' || c == '[':
			if depth == 1 {
				inEvent = c == '{' && string(b[name:nameEnd]) == "event"
			}
			if depth++; depth > maxDepth {
				return nil, invalid(b, i, "nested too deeply")
			}
			stack.set(depth, c == '[')
			inArray = c == '['
			i = skipSpace(b, i+1)
			if i >= n {
				return nil, invalid(b, i, "unexpected end")
			}
			if b[i] != c+2 { // not '}' or ']' right away: the first element
				continue
			}
			i++
			depth--
			inArray = stack.isArray(depth)
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if n-i < len(lit) || string(b[i:i+len(lit)]) != lit {
				return nil, invalid(b, i, "invalid literal")
			}
			i += len(lit)
		default:
			if c != '-' && (c < '0' || c > '9') {
				return nil, invalid(b, i, "unexpected character")
			}
			end, ok := scanJSONNumber(b, i)
			if !ok {
				return nil, invalid(b, end, "invalid number")
			}
			i = end
		}

		// After the value: close containers until a ',' starts the next
		// element, or the document is complete.
		for {
			i = skipSpace(b, i)
			if i < n && b[i] == ',' && depth > 0 { // the usual case first
				i = skipSpace(b, i+1)
				break
			}
			if depth == 0 {
				if i != n {
					return nil, invalid(b, i, "data after the object")
				}
				if idEnd == 0 {
					return nil, ""
				}
				return b[idStart:idEnd], ""
			}
			closer := byte('}')
			if inArray {
				closer = ']'
			}
			if i >= n || b[i] != closer {
				return nil, invalid(b, i, "expected ',' or '"+string(closer)+"'")
			}
			i++
			depth--
			inArray = stack.isArray(depth)
		}
		if i >= n {
			return nil, invalid(b, i, "unexpected end")
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace. A raw newline is not skipped: it would split the NDJSON
// line, and the caller's next check fails on it.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// invalid is the reason a line is refused, for a problem at b[i].
func invalid(b []byte, i int, msg string) string {
	if i < len(b) && b[i] == '\n' {
		return "not valid NDJSON: newline inside the document"
	}
	return "not valid JSON: " + msg + " at offset " + strconv.Itoa(i)
}

// bitStack holds one bit per open container (1: an array), so that
// json.Valid's nesting limit costs 10000 bits rather than 10000 frames.
// The first 128 levels need no allocation (nor zeroing a large frame).
type bitStack struct {
	small [2]uint64
	more  []uint64 // levels from 128 on
}

// set records whether the container at depth is an array.
func (s *bitStack) set(depth int, array bool) {
	w := &s.small[depth>>6&1]
	if depth >= 128 {
		w = s.deep(depth)
	}
	if array {
		*w |= 1 << (depth & 63)
	} else {
		*w &^= 1 << (depth & 63)
	}
}

// deep returns the word of level depth ≥ 128, growing s.more as needed.
func (s *bitStack) deep(depth int) *uint64 {
	k := depth>>6 - 2
	for k >= len(s.more) {
		s.more = append(s.more, 0)
	}
	return &s.more[k]
}

// isArray reports whether the container at depth is an array (false at
// depth 0, outside the document).
func (s *bitStack) isArray(depth int) bool {
	w := s.small[depth>>6&1]
	if depth >= 128 {
		w = s.more[depth>>6-2]
	}
	return w&(1<<(depth&63)) != 0
}

// maxDepth is json.Valid's nesting limit.
const maxDepth = 10000

// shortString is the inlined fast path of scanJSONString: for a string at
// b[i] == '"' whose closing quote is among the next 9 bytes, with only
// printable ASCII before it, it returns the index just past the quote;
// otherwise -1.
func shortString(b []byte, i int) int {
	if i+10 > len(b) {
		return -1
	}
	x := binary.LittleEndian.Uint64(b[i+1:])
	// Mark '"' and '\\' (a zero byte after the xor), control bytes (below
	// 0x20) and non-ASCII (high bit). A borrow only corrupts bytes above a
	// marked one, so the lowest mark is exact. With no mark j is i+9, just
	// past eight plain bytes.
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	m := ((q - lsb) | (bs - lsb) | (x - lsb*0x20) | x) & msb
	j := i + 1 + bits.TrailingZeros64(m)>>3
	if b[j] != '"' {
		return -1
	}
	return j + 1
}

// scanJSONString validates the string at b[i] == '"' and returns the index
// just past its closing quote, or the offset of the problem and a message.
func scanJSONString(b []byte, i int) (end int, msg string) {
	start := i + 1
	i = start
	var hi uint64 // high bits seen: non-ASCII bytes to check as UTF-8
	for {
		// 8 bytes at a time: m marks '"', '\\' and control bytes. Its
		// lowest set bit is exact: a borrow only starts at a marked byte
		// (a zero byte of q or bs, or a byte below 0x20 of x — the whole
		// byte, high bit included, so 0x80..0x9f never borrow) and only
		// corrupts the bytes above it. So the first special byte is found
		// without a byte loop.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			bs := x ^ (lsb * '\\')
			m := ((q-lsb)&^q | (bs-lsb)&^bs | (x-lsb*0x20)&^x) & msb
			if m != 0 {
				k := bits.TrailingZeros64(m) &^ 7 // bit offset of the byte
				hi |= x & (1<<k - 1)
				i += k >> 3
				goto special
			}
			hi |= x
			i += 8
		}
		for i < len(b) && !strSpecial[b[i]] {
			hi |= uint64(b[i])
			i++
		}
	special:
		if i >= len(b) {
			return i, "unterminated string"
		}
		switch c := b[i]; {
		case c == '"':
			if hi&msb != 0 && !utf8.Valid(b[start:i]) {
				return i + 1, "invalid UTF-8 in string"
			}
			return i + 1, ""
		case c == '\\':
			if i+1 >= len(b) {
				return i, "unterminated string"
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, "invalid \\u escape"
				}
				i += 6
			default:
				return i, "invalid escape"
			}
		case c == '\n':
			return i, "newline inside the document"
		case c < 0x20:
			return i, "control character in string"
		default: // not special after all (the mark is exact; defensive)
			hi |= uint64(c)
			i++
		}
	}
}

// scanJSONNumber validates the number at b[i] ('-' or a digit) and returns
// the index just past it.
func scanJSONNumber(b []byte, i int) (int, bool) {
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
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return i, false
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
			return i, false
		}
	}
	return i, true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
