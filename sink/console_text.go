package sink

import (
	"bytes"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/pipelog/pipelog/event"
)

// The console's rendering of values and text for a terminal.

// text appends the value v of the scanned line as text: a string decoded,
// null as nothing, anything else as compact JSON.
func (s *consoleScan) text(dst []byte, v span) []byte {
	raw := s.line[v.start:v.end]
	switch raw[0] {
	case '"':
		return appendUnquoted(dst, raw[1:len(raw)-1])
	case 'n':
		return dst
	}
	return appendCompact(dst, raw)
}

// appendValue writes the value v of the scanned line for people: a string
// bare unless it needs quotes, anything else as compact JSON.
func (c *Console) appendValue(dst []byte, v span) []byte {
	raw := c.scan.line[v.start:v.end]
	if raw[0] != '"' {
		return appendCompact(dst, raw)
	}
	c.val = appendUnquoted(c.val[:0], raw[1:len(raw)-1])
	if needsQuotes(c.val) {
		return appendQuoted(dst, c.val)
	}
	return append(dst, c.val...)
}

// needsQuotes reports whether a value must be quoted to read back: it is
// empty, or holds a space, a quote, '=', a backslash or a control
// character.
func needsQuotes(b []byte) bool {
	for i, c := range b {
		if c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f || c == 0xc2 && i+1 < len(b) && 0x80 <= b[i+1] && b[i+1] < 0xa0 {
			return true
		}
	}
	return len(b) == 0
}

// appendCompact appends the checked JSON value raw without the whitespace
// between its tokens.
func appendCompact(dst, raw []byte) []byte {
	in := false // inside a string
	from := 0
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			dst = append(dst, raw[from:i]...)
			from = i + 1
		}
	}
	return append(dst, raw[from:]...)
}

// appendText writes b as it is, or quoted when it holds control characters.
func appendText(dst, b []byte) []byte {
	if hasControl(b) {
		return appendQuoted(dst, b)
	}
	return append(dst, b...)
}

// appendQuoted writes b as strconv.Quote would.
func appendQuoted(dst, b []byte) []byte {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return strconv.AppendQuote(dst, string(b))
		}
	}
	// Printable ASCII: only the quote and the backslash are escaped.
	dst = append(dst, '"')
	for {
		i := bytes.IndexAny(b, `"\`)
		if i < 0 {
			break
		}
		dst = append(append(dst, b[:i]...), '\\', b[i])
		b = b[i+1:]
	}
	return append(append(dst, b...), '"')
}

// hasControl reports control characters (C0, DEL, C1: newlines, escape
// sequences), which must not reach a terminal raw.
func hasControl(b []byte) bool {
	for i, c := range b {
		if c < 0x20 || c == 0x7f || c == 0xc2 && i+1 < len(b) && 0x80 <= b[i+1] && b[i+1] < 0xa0 {
			return true
		}
	}
	return false
}

// appendForeign writes a line that is not a JSON object as it is, quoted
// when it holds control characters or bytes that are not UTF-8.
func appendForeign(dst, line []byte) []byte {
	line = bytes.TrimRight(line, "\n")
	if hasControl(line) || !utf8.Valid(line) {
		dst = appendQuoted(dst, line)
	} else {
		dst = append(dst, line...)
	}
	return append(dst, '\n')
}

// appendStack writes each line of a stack trace indented, control
// characters but tabs replaced with '?'.
func appendStack(dst, st []byte) []byte {
	for len(st) > 0 {
		line, rest, _ := bytes.Cut(st, []byte{'\n'})
		dst = append(dst, "    "...)
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c < 0x20 && c != '\t' || c == 0x7f:
				dst = append(dst, '?')
			case c == 0xc2 && i+1 < len(line) && 0x80 <= line[i+1] && line[i+1] < 0xa0:
				dst = append(dst, '?')
				i++
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '\n')
		st = rest
	}
	return dst
}

// capitalise appends name with its first letter upper-cased.
func capitalise(dst, name []byte) []byte {
	r, size := utf8.DecodeRune(name)
	return append(utf8.AppendRune(dst, unicode.ToUpper(r)), name[size:]...)
}

// Level colours.
const (
	ansiGrey   = "\x1b[90m"
	ansiCyan   = "\x1b[36m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
)

// appendLevel writes strings.ToUpper(l.String()), coloured on a terminal
// and padded to five characters, without allocating.
func (c *Console) appendLevel(dst []byte, l event.Level) []byte {
	base, off, color := "ERROR", l-event.LevelError, ansiRed
	switch {
	case l < event.LevelInfo:
		base, off, color = "DEBUG", l-event.LevelDebug, ansiGrey
	case l < event.LevelWarn:
		base, off, color = "INFO", l-event.LevelInfo, ansiCyan
	case l < event.LevelError:
		base, off, color = "WARN", l-event.LevelWarn, ansiYellow
	}
	if c.color {
		dst = append(dst, color...)
	}
	start := len(dst)
	dst = append(dst, base...)
	if off > 0 {
		dst = append(dst, '+')
	}
	if off != 0 {
		dst = strconv.AppendInt(dst, int64(off), 10)
	}
	n := len(dst) - start
	if c.color {
		dst = append(dst, ansiReset...)
	}
	for ; n < 5; n++ {
		dst = append(dst, ' ')
	}
	return dst
}

// appendLineLevel writes the line's log.level like appendLevel, whatever
// it holds.
func (c *Console) appendLineLevel(dst []byte) []byte {
	c.val = c.val[:0]
	if s := &c.scan; s.level.present() {
		c.val = s.text(c.val, s.level)
	}
	if c.color {
		dst = append(dst, levelColor(c.val)...)
	}
	up := c.val
	if isASCII(up) {
		for i, b := range up {
			if 'a' <= b && b <= 'z' {
				up[i] = b - ('a' - 'A')
			}
		}
	} else {
		up = bytes.ToUpper(up)
	}
	dst = appendText(dst, up)
	if c.color {
		dst = append(dst, ansiReset...)
	}
	for n := utf8.RuneCount(up); n < 5; n++ {
		dst = append(dst, ' ')
	}
	return dst
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func levelColor(level []byte) string {
	switch {
	case bytes.HasPrefix(level, []byte("debug")):
		return ansiGrey
	case bytes.HasPrefix(level, []byte("info")):
		return ansiCyan
	case bytes.HasPrefix(level, []byte("warn")):
		return ansiYellow
	case bytes.HasPrefix(level, []byte("error")), bytes.HasPrefix(level, []byte("fatal")), bytes.HasPrefix(level, []byte("panic")):
		return ansiRed
	}
	return ""
}
