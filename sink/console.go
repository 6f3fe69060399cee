package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ColorMode says when the console sink colours the level.
type ColorMode uint8

const (
	// ColorAuto colours when the writer is a terminal (an *os.File that is a
	// character device) and the NO_COLOR environment variable is unset or
	// empty (https://no-color.org).
	ColorAuto ColorMode = iota
	// ColorAlways always colours.
	ColorAlways
	// ColorNever never colours.
	ColorNever
)

// ConsoleConfig configures NewConsole. The zero value is fine.
type ConsoleConfig struct {
	Color ColorMode
	// TimeFormat formats @timestamp in local time (default "15:04:05.000").
	TimeFormat string
}

// Console is a Sink for local development: it turns each ECS line into one
// human-readable line,
//
//	10:00:00.123 WARN  OrderRejected order rejected trace.id=4bf9… error.message="credit limit" Tenant=acme Items=3
//
// time (local), level (padded, coloured on a terminal), event name
// (event.action), message, then trace.id, error.message and the event's
// custom fields (under Pipelog, flattened to dotted keys, without the event
// name or the adapters' Attrs level), then error.stack_trace indented on
// the following lines. Lines that are not JSON objects are written as they
// are. Production should keep the JSON sinks: this format is for people,
// not for shippers.
//
// It parses lines with encoding/json, so it costs far more per line than
// the JSON sinks.
type Console struct {
	mu     sync.Mutex
	w      io.Writer
	color  bool
	format string
	buf    []byte
	closed bool
}

// NewConsole returns a Console writing to w (nil: standard error).
func NewConsole(w io.Writer, opts ConsoleConfig) *Console {
	if w == nil {
		w = os.Stderr
	}
	c := &Console{w: w, format: opts.TimeFormat}
	if c.format == "" {
		c.format = "15:04:05.000"
	}
	switch opts.Color {
	case ColorAlways:
		c.color = true
	case ColorAuto:
		c.color = isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	}
	return c
}

// isTerminal reports whether w is a character device, without a dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Write formats one line and writes it. p is not retained.
func (c *Console) Write(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.buf = c.format1(c.buf[:0], p)
	_, err := c.w.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil
	}
	return err
}

// Flush does nothing: Write writes through.
func (c *Console) Flush(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return nil
}

// Close marks the sink closed. It does not close the writer (often
// os.Stderr).
func (c *Console) Close(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

const (
	ansiReset = "\x1b[0m"
	ansiDim   = "\x1b[2m"
)

func levelColor(level string) string {
	switch {
	case strings.HasPrefix(level, "debug"):
		return "\x1b[90m" // grey
	case strings.HasPrefix(level, "info"):
		return "\x1b[36m" // cyan
	case strings.HasPrefix(level, "warn"):
		return "\x1b[33m" // yellow
	case strings.HasPrefix(level, "error"), strings.HasPrefix(level, "fatal"), strings.HasPrefix(level, "panic"):
		return "\x1b[31m" // red
	}
	return ""
}

func (c *Console) format1(dst, line []byte) []byte {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		dst = append(dst, bytes.TrimRight(line, "\n")...)
		return append(dst, '\n')
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return string(raw)
		}
		return s
	}
	var obj map[string]json.RawMessage
	sub := func(path ...string) json.RawMessage {
		raw := top[path[0]]
		for _, p := range path[1:] {
			obj = nil
			if raw == nil || json.Unmarshal(raw, &obj) != nil {
				return nil
			}
			raw = obj[p]
		}
		return raw
	}

	// Time.
	if ts := str(top["@timestamp"]); ts != "" {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			dst = t.Local().AppendFormat(dst, c.format)
		} else {
			dst = append(dst, ts...)
		}
		dst = append(dst, ' ')
	}
	// Level, padded to 5.
	level := str(top["log.level"])
	if c.color {
		dst = append(dst, levelColor(level)...)
	}
	up := strings.ToUpper(level)
	dst = appendText(dst, up)
	if c.color {
		dst = append(dst, ansiReset...)
	}
	for n := utf8.RuneCountInString(up); n < 5; n++ {
		dst = append(dst, ' ')
	}
	// Event name and message.
	if name := sub("event", "action"); name != nil {
		dst = append(dst, ' ')
		dst = appendText(dst, str(name))
	}
	if msg := str(top["message"]); msg != "" {
		dst = append(dst, ' ')
		dst = appendText(dst, msg)
	}
	// Key fields.
	kv := func(k string, raw json.RawMessage) {
		dst = append(dst, ' ')
		if c.color {
			dst = append(dst, ansiDim...)
		}
		dst = appendText(dst, k)
		dst = append(dst, '=')
		if c.color {
			dst = append(dst, ansiReset...)
		}
		dst = appendConsoleValue(dst, raw)
	}
	if v := sub("trace", "id"); v != nil {
		kv("trace.id", v)
	}
	if v := sub("error", "message"); v != nil {
		kv("error.message", v)
	}
	if pl := top["Pipelog"]; pl != nil {
		eventKey := ""
		if name := str(sub("event", "action")); name != "" {
			r, size := utf8.DecodeRuneInString(name)
			eventKey = strings.ToUpper(string(r)) + name[size:]
		}
		flattenConsole(pl, "", func(k string, v json.RawMessage) {
			// Strip the event's own object and the adapters' Attrs level.
			for _, p := range []string{eventKey, "Attrs"} {
				if p != "" && strings.HasPrefix(k, p+".") {
					k = k[len(p)+1:]
					break
				}
			}
			kv(k, v)
		})
	}
	dst = append(dst, '\n')
	if st := str(sub("error", "stack_trace")); st != "" {
		for l := range strings.Lines(st) {
			dst = append(dst, "    "...)
			dst = append(dst, strings.Map(func(r rune) rune {
				if r == '\t' || !hasControl(string(r)) {
					return r
				}
				return '?'
			}, strings.TrimRight(l, "\n"))...)
			dst = append(dst, '\n')
		}
	}
	return dst
}

// flattenConsole calls fn for each leaf of the JSON object raw, in order,
// with its dotted path below prefix. Arrays are leaves.
func flattenConsole(raw json.RawMessage, prefix string, fn func(string, json.RawMessage)) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		if prefix != "" {
			fn(prefix, raw)
		}
		return
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if d.Decode(&v) != nil {
			return
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if len(v) > 0 && v[0] == '{' {
			flattenConsole(v, path, fn)
			continue
		}
		fn(path, v)
	}
}

// appendConsoleValue writes a JSON value for people: strings bare unless
// they need quotes, everything else as compact JSON.
func appendConsoleValue(dst []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 || raw[0] != '"' {
		return append(dst, raw...)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return append(dst, raw...)
	}
	if s == "" || strings.ContainsAny(s, " \"=\\") || hasControl(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}

// hasControl reports control characters (newlines, escape sequences),
// which must not reach a terminal raw.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 {
			return true
		}
	}
	return false
}

// appendText writes s as is, or quoted when it holds control characters.
func appendText(dst []byte, s string) []byte {
	if hasControl(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}
