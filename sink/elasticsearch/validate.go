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
// still escaped; nil if none) or a reason it is invalid. It is one
// iterative pass over the bytes with the position in a register: several
// times faster than json.Valid for log lines, and it never allocates on
// success.
//
// event.id is the non-empty string member "id" of the top-level object
// member "event"; failing that, the non-empty top-level string member
// "event.id" (the dotted form) if it comes before any nested one.
func scanLine(b []byte) (id []byte, reason string) {
	n := len(b)
	i := 0
	// The container stack as a bit set (1 = array), depth counts open
	// containers; json.Valid allows 10000.
	var small [2]uint64
	stack := small[:]
	depth := 0
	inEvent := false // the open depth-2 container is the object "event"
	var msg string

	// ws skips JSON whitespace; a raw newline would split the NDJSON line.
	for i < n && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\r':
			i++
		case '\n':
			return nil, "not valid NDJSON: newline inside the document"
		default:
			goto wsEnd0
		}
	}
wsEnd0:
	if i >= n {
		return nil, "empty line"
	}
	if b[i] != '{' {
		return nil, "not a JSON object"
	}

openObject:
	// b[i] == '{'
	depth++
	if depth > maxDepth {
		msg = "nested too deeply"
		goto fail
	}
	if depth>>6 >= len(stack) {
		stack = append(stack, 0)
	}
	stack[depth>>6] &^= 1 << (depth & 63)
	i++
	for i < n && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\r':
			i++
		case '\n':
			return nil, "not valid NDJSON: newline inside the document"
		default:
			goto wsEnd1
		}
	}
wsEnd1:
	if i < n && b[i] == '}' {
		i++
		goto closed
	}

member:
	// a member name, then ':', then the value
	for i < n && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\r':
			i++
		case '\n':
			return nil, "not valid NDJSON: newline inside the document"
		default:
			goto wsEnd2
		}
	}
wsEnd2:
	if i >= n || b[i] != '"' {
		msg = "expected a member name"
		goto fail
	}
	{
		ks := i + 1
		end := shortString(b, i)
		if end < 0 {
			var m string
			if end, m = scanJSONString(b, i); m != "" {
				i, msg = end, m
				goto fail
			}
		}
		key := b[ks : end-1]
		i = end
		for i < n && b[i] <= ' ' {
			switch b[i] {
			case ' ', '\t', '\r':
				i++
			case '\n':
				return nil, "not valid NDJSON: newline inside the document"
			default:
				goto wsEnd3
			}
		}
	wsEnd3:
		if i >= n || b[i] != ':' {
			msg = "expected ':'"
			goto fail
		}
		i++
		for i < n && b[i] <= ' ' {
			switch b[i] {
			case ' ', '\t', '\r':
				i++
			case '\n':
				return nil, "not valid NDJSON: newline inside the document"
			default:
				goto wsEnd4
			}
		}
	wsEnd4:
		if i >= n {
			msg = "unexpected end"
			goto fail
		}
		switch depth {
		case 1:
			switch b[i] {
			case '{':
				inEvent = string(key) == "event"
				goto openObject
			case '[':
				inEvent = false
			case '"':
				if string(key) == "event.id" {
					vs := i + 1
					end, m := scanJSONString(b, i)
					if m != "" {
						i, msg = end, m
						goto fail
					}
					if end-1 > vs && id == nil {
						id = b[vs : end-1]
					}
					i = end
					goto afterValue
				}
			}
		case 2:
			if inEvent && b[i] == '"' && string(key) == "id" {
				vs := i + 1
				end, m := scanJSONString(b, i)
				if m != "" {
					i, msg = end, m
					goto fail
				}
				if end-1 > vs {
					id = b[vs : end-1]
				}
				i = end
				goto afterValue
			}
		}
	}

value:
	// b[i] is the first byte of a value (i < n)
	switch c := b[i]; c {
	case '"':
		end := shortString(b, i)
		if end < 0 {
			var m string
			if end, m = scanJSONString(b, i); m != "" {
				i, msg = end, m
				goto fail
			}
		}
		i = end
	case '{':
		goto openObject
	case '[':
		depth++
		if depth > maxDepth {
			msg = "nested too deeply"
			goto fail
		}
		if depth>>6 >= len(stack) {
			stack = append(stack, 0)
		}
		stack[depth>>6] |= 1 << (depth & 63)
		i++
		for i < n && b[i] <= ' ' {
			switch b[i] {
			case ' ', '\t', '\r':
				i++
			case '\n':
				return nil, "not valid NDJSON: newline inside the document"
			default:
				goto wsEnd5
			}
		}
	wsEnd5:
		if i < n && b[i] == ']' {
			i++
			goto closed
		}
		if i >= n {
			msg = "unexpected end"
			goto fail
		}
		goto value
	case 't':
		if n-i >= 4 && string(b[i:i+4]) == "true" {
			i += 4
		} else {
			msg = "invalid literal"
			goto fail
		}
	case 'f':
		if n-i >= 5 && string(b[i:i+5]) == "false" {
			i += 5
		} else {
			msg = "invalid literal"
			goto fail
		}
	case 'n':
		if n-i >= 4 && string(b[i:i+4]) == "null" {
			i += 4
		} else {
			msg = "invalid literal"
			goto fail
		}
	default:
		if c != '-' && (c < '0' || c > '9') {
			msg = "unexpected character"
			goto fail
		}
		end, ok := scanJSONNumber(b, i)
		i = end
		if !ok {
			msg = "invalid number"
			goto fail
		}
	}

afterValue:
	for i < n && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\r':
			i++
		case '\n':
			return nil, "not valid NDJSON: newline inside the document"
		default:
			goto wsEnd6
		}
	}
wsEnd6:
	if i >= n {
		msg = "unexpected end"
		goto fail
	}
	if stack[depth>>6]&(1<<(depth&63)) == 0 { // in an object
		switch b[i] {
		case ',':
			i++
			goto member
		case '}':
			i++
			goto closed
		}
		msg = "expected ',' or '}'"
		goto fail
	}
	switch b[i] { // in an array
	case ',':
		i++
		for i < n && b[i] <= ' ' {
			switch b[i] {
			case ' ', '\t', '\r':
				i++
			case '\n':
				return nil, "not valid NDJSON: newline inside the document"
			default:
				goto wsEnd7
			}
		}
	wsEnd7:
		if i >= n {
			msg = "unexpected end"
			goto fail
		}
		goto value
	case ']':
		i++
		goto closed
	}
	msg = "expected ',' or ']'"
	goto fail

closed:
	// a container just closed at b[i-1]
	depth--
	if depth > 0 {
		goto afterValue
	}
	for i < n && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\r':
			i++
		case '\n':
			return nil, "not valid NDJSON: newline inside the document"
		default:
			goto wsEnd8
		}
	}
wsEnd8:
	if i != n {
		return nil, "not valid JSON: data after the object at offset " + strconv.Itoa(i)
	}
	return id, ""

fail:
	return nil, "not valid JSON: " + msg + " at offset " + strconv.Itoa(i)
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
