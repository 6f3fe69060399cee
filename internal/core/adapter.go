package core

import (
	"sync"

	"github.com/pipelog/pipelog/internal/encode"
)

// Scratch is what one adapter line (slog, zap) needs, pooled.
type Scratch struct {
	Attrs  encode.Attrs
	custom []byte
}

var scratches = sync.Pool{New: func() any { return new(Scratch) }}

// GetScratch returns a pooled Scratch. Its Attrs must be reset (or copied
// into) before use.
func GetScratch() *Scratch { return scratches.Get().(*Scratch) }

// PutScratch returns s to the pool, unless one huge line grew it.
func PutScratch(s *Scratch) {
	if !s.Big() {
		scratches.Put(s)
	}
}

// Big reports whether s grew too large to be worth pooling.
func (s *Scratch) Big() bool { return cap(s.custom) > 64<<10 }

// WriteAttrs encodes and writes the line of an adapter record whose fields
// are in s.Attrs. ln holds the record's event ID (rec.EventID is set from
// it). stack, when set, is a stack trace with no error to carry it (zap's
// AddStacktrace): it goes to Pipelog.stack_trace.
func (c *Core) WriteAttrs(ln *Line, rec *encode.Record, s *Scratch, stack string) {
	rec.EventID = ln.ID()
	rec.Labels = s.Attrs.Labels(rec.Labels)
	custom := s.Attrs.AppendCustom(s.custom[:0], "Attrs")
	if stack != "" {
		if len(custom) > 0 {
			custom = append(custom, ',')
		}
		custom = append(custom, `"stack_trace":`...)
		custom = c.Enc.AppendStringValue(custom, stack)
	}
	s.custom = custom
	// What the values' encoding found (s.Attrs.Problems) is written in
	// Pipelog.encode_errors, as for typed events, not reported to OnError.
	ln.Buf = c.Enc.AppendAttrs(ln.Buf, rec, &s.Attrs, custom)
	c.Write(ln, rec, rec.Base.Level, "")
}
