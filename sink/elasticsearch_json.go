package sink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Small, allocation-free JSON scanning helpers used by the Elasticsearch
// sink: extracting event.id from a line and reading bulk responses. They
// walk the bytes and never build values.

var errScan = errors.New("malformed JSON")

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString expects b[i] == '"' and returns the index just past the closing
// quote together with the raw (still escaped) contents.
func scanString(b []byte, i int) (end int, raw []byte, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, nil, errScan
	}
	start := i + 1
	j := start
	for j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		q := x ^ (lsb * '"')
		bs := x ^ (lsb * '\\')
		if ((q-lsb)&^q|(bs-lsb)&^bs)&msb != 0 {
			break
		}
		j += 8
	}
	for ; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, b[start:j], nil
		}
	}
	return 0, nil, errScan
}

// skipValue returns the index just past the JSON value starting at b[i]. It
// balances brackets and honours strings; it does not validate numbers or
// literals exhaustively (callers validate documents with json.Valid).
func skipValue(b []byte, i int) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		end, _, err := scanString(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := scanString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errScan
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		if j == i {
			return 0, errScan
		}
		return j, nil
	}
}

// forEachMember calls fn for each member of the object starting at b[i]
// (after whitespace) with the raw key and the index of its value. fn returns
// the index just past the value (or -1 to let forEachMember skip it) and
// whether to continue. It returns the index just past the object.
func forEachMember(b []byte, i int, fn func(key []byte, v int) (next int, more bool)) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '{' {
		return 0, errScan
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		end, key, err := scanString(b, skipWS(b, i))
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errScan
		}
		v := skipWS(b, i+1)
		next, more := fn(key, v)
		if !more {
			return next, nil
		}
		if next < 0 {
			if next, err = skipValue(b, v); err != nil {
				return 0, err
			}
		}
		i = skipWS(b, next)
		if i >= len(b) {
			return 0, errScan
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return 0, errScan
		}
	}
}

// bulkSummary is what the fast path reads from a bulk response.
type bulkSummary struct {
	errors bool // top-level "errors" was true
	items  int  // number of elements in "items"
}

// scanBulkResponse reads the top-level "errors" flag and counts "items"
// without decoding them. A body that is not a complete object is an error.
func scanBulkResponse(b []byte) (bulkSummary, error) {
	var s bulkSummary
	var inner error
	sawItems := false
	end, err := forEachMember(b, 0, func(key []byte, v int) (int, bool) {
		switch string(key) {
		case "errors":
			if bytes.HasPrefix(b[v:], []byte("true")) {
				s.errors = true
				return v + 4, true
			}
			if bytes.HasPrefix(b[v:], []byte("false")) {
				return v + 5, true
			}
			inner = errScan
			return 0, false
		case "items":
			sawItems = true
			if v >= len(b) || b[v] != '[' {
				inner = errScan
				return 0, false
			}
			i := skipWS(b, v+1)
			if i < len(b) && b[i] == ']' {
				return i + 1, true
			}
			for {
				next, err := skipValue(b, i)
				if err != nil {
					inner = err
					return 0, false
				}
				s.items++
				i = skipWS(b, next)
				if i >= len(b) {
					inner = errScan
					return 0, false
				}
				if b[i] == ']' {
					return i + 1, true
				}
				if b[i] != ',' {
					inner = errScan
					return 0, false
				}
				i++
			}
		}
		return -1, true
	})
	if err == nil {
		err = inner
	}
	if err == nil && !sawItems {
		err = errors.New("no items array")
	}
	if err == nil && skipWS(b, end) != len(b) {
		err = errors.New("trailing data after the response object")
	}
	return s, err
}

// DataStreamName returns "<type>-<dataset>-<namespace>" with each part
// sanitised to the Elasticsearch data stream naming rules: lower case, none
// of \ / * ? " < > | , # : space or '-' (replaced by '_'), no leading '_',
// '-' or '+', and at most 100 bytes for dataset and namespace. Empty parts
// default to "logs", "generic" and "default".
func DataStreamName(typ, dataset, namespace string) string {
	return sanitizeDSPart(typ, "logs") + "-" + sanitizeDSPart(dataset, "generic") + "-" + sanitizeDSPart(namespace, "default")
}

func sanitizeDSPart(s, def string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case '\\', '/', '*', '?', '"', '<', '>', '|', ',', '#', ':', ' ', '-', '\t', '\n', '\r':
			r = '_'
		}
		if r < 0x20 || r == 0x7f {
			r = '_'
		}
		b.WriteRune(r)
	}
	out := strings.TrimLeft(b.String(), "_+.")
	if len(out) > 100 {
		out = strings.ToValidUTF8(out[:100], "")
	}
	if out == "" {
		return def
	}
	return out
}

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

// lineScanner validates one JSON document in a single pass and picks up
// event.id on the way. It is a strict RFC 8259 recogniser (what json.Valid
// accepts), several times faster than json.Valid for log lines.
type lineScanner struct {
	b   []byte
	i   int
	id  []byte
	err string
}

// scanLine validates line as one JSON object and returns its event.id (raw,
// still escaped; nil if none) or a reason it is invalid.
func scanLine(line []byte) (id []byte, reason string) {
	s := lineScanner{b: line}
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

func (s *lineScanner) ws() {
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

func (s *lineScanner) fail(msg string) bool {
	if s.err == "" {
		s.err = msg
	}
	return false
}

const maxDepth = 1000

// object parses an object at s.b[s.i] == '{'. level 1 is the document, 2 is
// a top-level member's object.
func (s *lineScanner) object(level int) bool {
	if level > maxDepth {
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

func (s *lineScanner) value(level int) bool {
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
		if level > maxDepth {
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

func (s *lineScanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return s.fail("invalid literal")
}

func (s *lineScanner) num() bool {
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
func (s *lineScanner) str() ([]byte, bool) {
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

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
