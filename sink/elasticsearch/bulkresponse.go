package elasticsearch

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Reading bulk responses without decoding them: the top-level "errors" flag
// and the number of items, found by walking the bytes (no values are built).

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
