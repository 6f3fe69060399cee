package sink

import (
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pipelog/pipelog/event"
)

// BenchmarkConsole formats consoleLine (a typed event with trace.id, an
// error with a two-line stack trace and six custom fields, 540 bytes) to
// io.Discard: "previous" is the encoding/json-based implementation (behind
// a mutex, as the sink held one), "Write" reads time, level and event name
// from the line, "WriteEntry" takes them from the entry.
func BenchmarkConsole(b *testing.B) {
	line := []byte(consoleLine)
	e := &Entry{Line: line, Level: event.LevelWarn, Time: time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.UTC), Name: "OrderRejected"}
	b.Run("previous", func(b *testing.B) {
		var mu sync.Mutex
		var buf []byte
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			buf = previousConsoleFormat(buf[:0], line, false, "15:04:05.000")
			_, _ = io.Discard.Write(buf)
			mu.Unlock()
		}
	})
	b.Run("Write", func(b *testing.B) {
		c := NewConsole(io.Discard, ConsoleConfig{Color: ColorNever})
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Write(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WriteEntry", func(b *testing.B) {
		c := NewConsole(io.Discard, ConsoleConfig{Color: ColorNever})
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteEntry(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
