package encode

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for bytes that go into a JSON string unchanged.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD, control characters are escaped, and a string longer than max bytes
// (max > 0) is cut at a rune boundary and marked, so the line stays valid
// JSON whatever s holds.
func appendString(dst []byte, s string, max int) []byte {
	cut := 0
	if max > 0 && len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		cut = len(s) - n
		s = s[:n]
	}
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	if cut > 0 {
		dst = append(dst, "…(truncated "...)
		dst = strconv.AppendInt(dst, int64(cut), 10)
		dst = append(dst, " bytes)"...)
	}
	return append(dst, '"')
}

func appendEscaped(dst []byte, s string) []byte {
	// Fast path: skip 8 bytes at a time while none needs attention.
	i := 0
	for i+8 <= len(s) && !needsEscape8(s[i:i+8]) {
		i += 8
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// needsEscape8 reports whether any of the 8 bytes of s is a control
// character, '"', '\\' or non-ASCII (SWAR: one word at a time).
func needsEscape8(s string) bool {
	_ = s[7] // one bounds check; the loads below combine into one
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return (hasLess(w, 0x20)|hasZero(w^(lsb*'"'))|hasZero(w^(lsb*'\\'))|w)&msb != 0
}

// hasLess sets the high bit of some byte when any byte of w is < n (n <= 128).
func hasLess(w, n uint64) uint64 { return (w - lsb*n) & ^w }

// hasZero sets the high bit of some byte when any byte of w is 0.
func hasZero(w uint64) uint64 { return (w - lsb) & ^w }

// appendKey appends "key": with key escaped.
func appendKey(dst []byte, key string) []byte {
	dst = appendString(dst, key, 0)
	return append(dst, ':')
}

// appendFloat appends f as a JSON number, or null for NaN and ±Inf, which
// JSON cannot express and Elasticsearch would reject in a numeric field.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, bits)
}

// comma appends ',' unless dst ends an object opening, which lets the
// encoder write optional fields without tracking whether one came before.
func comma(dst []byte) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		return append(dst, ',')
	}
	return dst
}
