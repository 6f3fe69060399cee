package core

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unsafe"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/sink"
)

// Line is one line being written: its buffer, its event ID and the entry
// that carries both to the sinks. Lines are pooled, so the entry handed to
// a sink lives on the heap already and costs nothing to pass through an
// interface.
type Line struct {
	Buf    []byte
	id     [32]byte
	ent    sink.Entry
	labels []event.Label // the enrichers' scratch (enrich.go)
}

var lines = sync.Pool{New: func() any { return &Line{Buf: make([]byte, 0, 2048)} }}

// GetLine returns an empty Line whose ID is the next event ID of c.
func (c *Core) GetLine() *Line {
	ln := lines.Get().(*Line)
	ln.Buf = ln.Buf[:0]
	c.ids.next(&ln.id)
	return ln
}

// ID is the line's event.id, valid until PutLine.
func (ln *Line) ID() []byte { return ln.id[:] }

// PutLine returns ln to the pool, unless one huge line grew it: keeping
// that would pin its memory for the life of the process.
func PutLine(ln *Line) {
	ln.ent = sink.Entry{}
	if cap(ln.Buf) > 64<<10 {
		return
	}
	lines.Put(ln)
}

// EmitEvent encodes and writes one typed event (see pipelog.Emit and
// encode.AppendEvent for p and box). skip is the number of frames between
// the caller of interest and EmitEvent's caller, for log.origin.
func (c *Core) EmitEvent(ctx context.Context, fx *encode.Fixed, ti *encode.Type, level event.Level, p, box unsafe.Pointer, skip int) {
	t := c.now()
	if c.sampler != nil && !c.sampler.keep(c, ti, level, t) {
		return
	}
	ln := c.GetLine()
	rec := encode.Record{Time: t, EventID: ln.ID()}
	c.Gather(ctx, &rec)
	if c.enrich != nil {
		c.enrichLabels(ctx, ln, &rec)
	}
	if c.Caller {
		rec.Caller = CallerAt(skip + 1)
	}
	var err error
	ln.Buf, err = c.Enc.AppendEvent(ln.Buf, fx, &rec, ti, p, box)
	if err != nil {
		c.Fail(fmt.Errorf("pipelog: %w", err))
	}
	c.Write(ln, level, rec.Time, ti.Name())
	PutLine(ln)
}

// Gather fills rec's correlation from ctx (and the goroutine ID when
// enabled).
func (c *Core) Gather(ctx context.Context, rec *encode.Record) {
	if ctx != nil {
		v := logctx.From(ctx)
		rec.Correlation = encode.Correlation{
			CorrelationID: v.CorrelationID,
			TraceID:       v.TraceID,
			SpanID:        v.SpanID,
			TransactionID: v.TransactionID,
			RequestID:     v.RequestID,
			Worker:        v.Worker,
			Labels:        v.Labels,
		}
	}
	if c.Thread {
		rec.ThreadID = GoroutineID()
	}
}

// Write hands the line in ln to every sink that takes level. A sink that
// fails or panics is counted and reported; the others still get the line.
func (c *Core) Write(ln *Line, level event.Level, t time.Time, name string) {
	if c.closed.Load() {
		if c.stats.dropped.Add(1) == 1 {
			c.Fail(fmt.Errorf("pipelog: event emitted after Close, dropped (reported once; see Stats.Dropped): %w", sink.ErrClosed))
		}
		return
	}
	ln.ent = sink.Entry{Line: ln.Buf, Level: level, Time: t, ID: ln.id[:], Name: name}
	took := false
	for i := range c.sinks {
		s := &c.sinks[i]
		if level < s.min {
			continue
		}
		if err := s.write(&ln.ent); err != nil {
			c.stats.sinkErrors.Add(1)
			c.Fail(&sink.WriteError{Sink: s.s, Err: err})
			continue
		}
		took = true
	}
	if took {
		c.stats.written.Add(1)
	} else {
		c.stats.failed.Add(1)
	}
}

// write calls the sink, turning a panic into an error: a broken sink must
// not take the host program down with it.
func (s *sinkRef) write(e *sink.Entry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Write panicked: %v", r)
		}
	}()
	if s.ew != nil {
		return s.ew.WriteEntry(e)
	}
	return s.s.Write(e.Line)
}
