package encode

import (
	"sync/atomic"
	"time"
)

// appendTimestamp appends t as "YYYY-MM-DDTHH:MM:SS.ffffffZ": UTC, RFC 3339,
// always six fraction digits, which every ecs-logging parser accepts
// (%Y-%m-%dT%H:%M:%S.%fZ). Hand-rolled because time.AppendFormat costs
// several times more on this hot path.
func appendTimestamp(dst []byte, t time.Time) []byte {
	return appendFull(dst, t.UTC())
}

// appendNow is appendTimestamp for @timestamp, cached per Encoder.
func (e *Encoder) appendNow(dst []byte, t time.Time) []byte {
	// The cache holds a second whose year was checked when it was filled:
	// a hit needs neither UTC nor Year.
	if c := e.second.Load(); c != nil && c.unix == t.Unix() {
		return appendCached(dst, c, t.Nanosecond()/1000)
	}
	t = t.UTC()
	if year := t.Year(); year >= 0 && year <= 9999 {
		return appendSecond(dst, t, &e.second)
	}
	return appendFull(dst, t)
}

// appendFull formats t (in UTC) without the cache, clamping years outside
// 0000–9999.
func appendFull(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	us := t.Nanosecond() / 1000
	if year < 0 || year > 9999 {
		// Outside what RFC 3339 can express: clamp rather than corrupt.
		if year < 0 {
			year, month, day, hour, min, sec, us = 0, 1, 1, 0, 0, 0, 0
		} else {
			year, month, day, hour, min, sec, us = 9999, 12, 31, 23, 59, 59, 999999
		}
	}
	dst = append(dst, '"')
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, min, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, us, 6)
	return append(dst, 'Z', '"')
}

func appendDigits(dst []byte, v, width int) []byte {
	var b [8]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:width]...)
}

// secondCache remembers the text of the last whole second written: lines
// are written many per second, and the date and clock digits are most of
// the cost of a timestamp.
type secondCache struct {
	unix int64
	text [20]byte // "2026-11-26T10:00:00."
}

// appendSecond writes t, whose year is 0000–9999, through cache.
func appendSecond(dst []byte, t time.Time, cache *atomic.Pointer[secondCache]) []byte {
	unix := t.Unix()
	c := cache.Load()
	if c == nil || c.unix != unix {
		c = &secondCache{unix: unix}
		b := appendFull(c.text[:0], t)
		copy(c.text[:], b[1:21])
		cache.Store(c)
	}
	return appendCached(dst, c, t.Nanosecond()/1000)
}

// appendCached writes `"<cached second>.<us>Z"`, the microseconds two
// digits at a time from a table.
func appendCached(dst []byte, c *secondCache, us int) []byte {
	var b [31]byte
	b[0] = '"'
	copy(b[1:21], c.text[:])
	d := us % 100
	us /= 100
	b[25], b[26] = digitPairs[2*d], digitPairs[2*d+1]
	d = us % 100
	us /= 100
	b[23], b[24] = digitPairs[2*d], digitPairs[2*d+1]
	d = us % 100
	b[21], b[22] = digitPairs[2*d], digitPairs[2*d+1]
	b[27], b[28] = 'Z', '"'
	return append(dst, b[:29]...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"
