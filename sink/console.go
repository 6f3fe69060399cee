package sink

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pipelog/pipelog/event"
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
// are. Control characters never reach the terminal raw: text that holds
// any is written quoted, Go-style. Production should keep the JSON sinks:
// this format is for people, not for shippers.
//
// From a Logger (WriteEntry) the time, level and event name come with the
// line; the rest is read in one pass over it, without allocating. A foreign
// line given to Write is read the same way, and its time, level and event
// name from the line.
type Console struct {
	mu     sync.Mutex
	w      io.Writer
	color  bool
	format string
	buf    []byte
	val    []byte // one decoded value
	scan   consoleScan
	closed bool
}

var _ EntryWriter = (*Console)(nil)

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

// Write formats one line, reading its time, level and event name from it,
// and writes it. p is not retained.
func (c *Console) Write(p []byte) error { return c.write(p, nil) }

// WriteEntry formats e's line with e's time, level and event name, and
// writes it. Nothing of e is retained.
func (c *Console) WriteEntry(e *Entry) error { return c.write(e.Line, e) }

func (c *Console) write(line []byte, e *Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.buf = c.appendLine(c.buf[:0], line, e)
	_, err := c.w.Write(c.buf)
	c.scan.reset()
	if cap(c.buf) > maxScratch {
		c.buf = nil
	}
	if cap(c.val) > maxScratch {
		c.val = nil
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

// appendLine formats line; e, when not nil, is what the Logger knows of it.
func (c *Console) appendLine(dst, line []byte, e *Entry) []byte {
	s := &c.scan
	if !s.scan(line) {
		return appendForeign(dst, line)
	}

	// Time, level, event name.
	var eventKey []byte
	if e != nil {
		if t, ok := lineTime(e.Time); ok {
			dst = append(t.Local().AppendFormat(dst, c.format), ' ')
		} else {
			dst = c.appendLineTime(dst)
		}
		if e.Level > event.LevelError && c.zapLevelName() {
			// zap's DPanic, Panic and Fatal are event levels Error+1..3
			// named by the line ("dpanic", "panic", "fatal"), as ecszap
			// names them: the entry's level has no such name.
			dst = c.appendLineLevel(dst)
		} else {
			dst = c.appendLevel(dst, e.Level)
		}
		if e.Name != "" {
			c.val = append(c.val[:0], e.Name...)
			dst = appendText(append(dst, ' '), c.val)
			eventKey = c.appendEventKey(c.val)
		}
	} else {
		dst = c.appendLineTime(dst)
		dst = c.appendLineLevel(dst)
		if s.action.present() {
			c.val = s.text(c.val[:0], s.action)
			dst = appendText(append(dst, ' '), c.val)
			if len(c.val) > 0 {
				eventKey = c.appendEventKey(c.val)
			}
		}
	}

	// Message and key fields.
	if s.message.present() {
		if c.val = s.text(c.val[:0], s.message); len(c.val) > 0 {
			dst = appendText(append(dst, ' '), c.val)
		}
	}
	if s.traceID.present() {
		dst = c.appendField(dst, []byte("trace.id"), s.traceID)
	}
	if s.errMessage.present() {
		dst = c.appendField(dst, []byte("error.message"), s.errMessage)
	}
	for _, l := range s.leaves {
		k := s.paths[l.path.start:l.path.end]
		// Strip the event's own object and the adapters' Attrs level.
		if hasDottedPrefix(k, eventKey) {
			k = k[len(eventKey)+1:]
		} else if hasDottedPrefix(k, []byte("Attrs")) {
			k = k[len("Attrs")+1:]
		}
		dst = c.appendField(dst, k, l.value)
	}
	dst = append(dst, '\n')

	if s.errStack.present() {
		c.val = s.text(c.val[:0], s.errStack)
		dst = appendStack(dst, c.val)
	}
	return dst
}

// lineTime returns t as the Logger wrote it in @timestamp: to the
// microsecond. ok is false for years the line cannot hold (the encoder
// clamps them), which are then read from the line.
func lineTime(t time.Time) (time.Time, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return t, false
	}
	return t.Add(-time.Duration(t.Nanosecond() % 1000)), true
}

// appendLineTime writes the line's @timestamp in local time, or as it is
// when it is not RFC 3339.
func (c *Console) appendLineTime(dst []byte) []byte {
	s := &c.scan
	if !s.ts.present() {
		return dst
	}
	if c.val = s.text(c.val[:0], s.ts); len(c.val) == 0 {
		return dst
	}
	if t, err := time.Parse(time.RFC3339Nano, string(c.val)); err == nil {
		dst = t.Local().AppendFormat(dst, c.format)
	} else {
		dst = appendText(dst, c.val)
	}
	return append(dst, ' ')
}

// appendEventKey returns name with a capital first letter, the key of the
// event's own object under Pipelog (kept in the scan's key buffer, free
// once the line is scanned).
func (c *Console) appendEventKey(name []byte) []byte {
	c.scan.key = capitalise(c.scan.key[:0], name)
	return c.scan.key
}

// hasDottedPrefix reports whether k starts with prefix and a dot.
func hasDottedPrefix(k, prefix []byte) bool {
	return len(prefix) > 0 && len(k) > len(prefix) && k[len(prefix)] == '.' && string(k[:len(prefix)]) == string(prefix)
}

// appendField writes " key=value", the key dimmed on a terminal.
func (c *Console) appendField(dst, k []byte, v span) []byte {
	dst = append(dst, ' ')
	if c.color {
		dst = append(dst, ansiDim...)
	}
	dst = appendText(dst, k)
	dst = append(dst, '=')
	if c.color {
		dst = append(dst, ansiReset...)
	}
	return c.appendValue(dst, v)
}

// zapLevelName reports whether the scanned line's log.level is one of the
// names the zap core gives levels above error.
func (c *Console) zapLevelName() bool {
	if !c.scan.level.present() {
		return false
	}
	c.val = c.scan.text(c.val[:0], c.scan.level)
	switch string(c.val) {
	case "dpanic", "panic", "fatal":
		return true
	}
	return false
}
