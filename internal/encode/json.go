package encode

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for bytes that go into a JSON string unchanged:
// printable ASCII other than '"' and '\\'.
var safeASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD, control characters are escaped, and a string longer than max bytes
// (max > 0) is cut at a rune boundary and marked, so the line stays valid
// JSON whatever s holds.
//
// The fast path checks 8 bytes at a time (the last word overlapping the one
// before it) with few live values, then copies the string in one append;
// the first byte that needs attention hands the rest to appendEscaped.
func appendString(dst []byte, s string, max int) []byte {
	if max > 0 && len(s) > max {
		return appendCut(dst, s, max)
	}
	if k := plainPrefix(s); k < len(s) {
		dst = append(dst, '"')
		dst = append(dst, s[:k]...)
		return appendStringSlow(dst, s[k:])
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainPrefix returns how many bytes at the start of s need no escaping,
// at word granularity: len(s) when none does.
func plainPrefix(s string) int {
	i := 0
	if len(s) >= 8 {
		for ; i+8 <= len(s); i += 8 {
			if needsEscapeWord(load8(s, i)) {
				return i
			}
		}
		if i < len(s) && needsEscapeWord(load8(s, len(s)-8)) {
			return i
		}
		return len(s)
	}
	for ; i < len(s); i++ {
		if !safeASCII[s[i]] {
			return i
		}
	}
	return len(s)
}

// appendStringSlow escapes the rest of a string and closes it.
func appendStringSlow(dst []byte, rest string) []byte {
	dst = appendEscaped(dst, rest)
	return append(dst, '"')
}

// appendCut writes the first max bytes of s (cut back to a rune start) as
// a JSON string with a marker saying how much was cut.
func appendCut(dst []byte, s string, max int) []byte {
	return appendCutBody(append(dst, '"'), s, max)
}

// appendCutBody is appendCut after the opening quote.
func appendCutBody(dst []byte, s string, max int) []byte {
	n := cutPoint(s, max)
	cut := len(s) - n
	dst = appendEscaped(dst, s[:n])
	dst = append(dst, "…(truncated "...)
	dst = strconv.AppendInt(dst, int64(cut), 10)
	dst = append(dst, " bytes)"...)
	return append(dst, '"')
}

// cutPoint is where to cut s to at most max bytes without splitting a
// rune: max, or up to three bytes before it when a rune that starts there
// would be cut. Bytes that are not UTF-8 are no rune: they are cut where
// they are (and written as U+FFFD), never searched past, so a string of
// invalid bytes keeps its first max of them.
func cutPoint(s string, max int) int {
	for n := max; n >= 0 && n > max-utf8.UTFMax; n-- {
		if utf8.RuneStart(s[n]) {
			if n == max {
				return max // s[max] starts a rune: nothing before it is split
			}
			if r, size := utf8.DecodeRuneInString(s[n:]); r != utf8.RuneError || size > 1 {
				if n+size > max {
					return n // this rune crosses max: cut before it
				}
			}
			return max
		}
	}
	return max
}

// load8 reads s[i:i+8] as a little-endian word. Indexing a slice of known
// length 8 lets the compiler drop the bounds checks and merge the eight
// loads into one.
func load8(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// needsEscapeWord reports whether any byte of w is a control character,
// '"', '\\' or non-ASCII (SWAR: one word at a time).
//
// (w - 0x20…) | w sets a byte's high bit when the byte is < 0x20 or ≥ 0x80
// (a borrow from a lower byte can only add bits next to a byte that
// already set one, so the word-wide answer is exact); hasZero finds '"' and
// '\\' after an XOR.
func needsEscapeWord(w uint64) bool {
	return ((w-lsb*0x20)|w|hasZero(w^(lsb*'"'))|hasZero(w^(lsb*'\\')))&msb != 0
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

// needsEscape8 reports whether any of the 8 bytes of s needs escaping.
func needsEscape8(s string) bool { return needsEscapeWord(load8(s, 0)) }

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
	if bits == 64 {
		if out, ok := appendShortDecimal(dst, f); ok {
			return out
		}
	}
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

// pow10 are the exact powers of ten appendShortDecimal tries.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// appendShortDecimal writes f the way strconv.AppendFloat(dst, f, 'f', -1,
// 64) does, for the values logs mostly carry (amounts, ratios, seconds: a
// few decimals, fewer than 15 significant digits) at a fraction of its
// cost; ok is false for any other value, which the caller formats with
// strconv.
//
// It looks for the smallest k ≤ 8 for which n = round(f·10^k) is an
// integer below 10^15 with n/10^k == f. That division is correctly rounded
// (n and 10^k are exact), so the decimal n·10^-k parses back to f; below
// 10^15 the spacing of decimals with k digits (≥ 10^-15·|f|) is wider than
// the spacing of floats near f (≤ 2^-52·|f|), so no other decimal of k
// digits parses to f either, and none of fewer digits does (k is the
// smallest): it is the shortest, which is what strconv writes.
func appendShortDecimal(dst []byte, f float64) ([]byte, bool) {
	neg := f < 0
	a := f
	if neg {
		a = -f
	}
	if !(a >= 1e-6 && a < 1e15) { // also false for NaN; 0 and -0 go to strconv
		return dst, false
	}
	for k, p := range pow10 {
		m := a * p
		if m >= 1e15 {
			return dst, false
		}
		n := math.Round(m)
		if n/p != a {
			continue
		}
		u := uint64(n)
		if neg {
			dst = append(dst, '-')
		}
		if k == 0 {
			return strconv.AppendUint(dst, u, 10), true
		}
		var buf [24]byte
		i := len(buf)
		for j := 0; j < k; j++ {
			i--
			buf[i] = byte('0' + u%10)
			u /= 10
		}
		i--
		buf[i] = '.'
		if u == 0 {
			i--
			buf[i] = '0'
		}
		for u > 0 {
			i--
			buf[i] = byte('0' + u%10)
			u /= 10
		}
		return append(dst, buf[i:]...), true
	}
	return dst, false
}

// comma appends ',' unless dst ends an object opening, which lets the
// encoder write optional fields without tracking whether one came before.
func comma(dst []byte) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		return append(dst, ',')
	}
	return dst
}
