package core

import (
	"context"
	"fmt"
	"sync"
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
	stage  int           // what is being done with the line (see EmitEvent)
	took   bool          // a sink took it
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
	ln.took = false
	if cap(ln.Buf) > 64<<10 {
		return
	}
	lines.Put(ln)
}

// EmitEvent encodes and writes one typed event (see pipelog.Emit and
// encode.AppendEvent for p and box). skip is the number of frames between
// the caller of interest and EmitEvent's caller, for log.origin.
//
// Emit never panics. Every user method the encoder calls is guarded; should
// anything else panic while the line is made (a context's Value, a bug of
// ours), the line is replaced by encode.AppendFallback's, written and
// reported; a sink whose Write panics is counted and reported, and the
// sinks after it still get the line. One deferred function (finish) is the
// guard for all of it: a defer per line costs tens of instructions, so
// there is one, not one per sink.
func (c *Core) EmitEvent(ctx context.Context, fx *encode.Fixed, ti *encode.Type, level event.Level, p, box unsafe.Pointer, skip int) {
	t := c.now()
	if c.sampler != nil && !c.sampler.keep(c, ti, level, t) {
		return
	}
	ln := c.GetLine()
	rec := encode.Record{Time: t, EventID: ln.ID()}
	ln.stage = stageEncode
	defer c.finish(ln, &rec, level, ti, p)
	c.GatherLine(ctx, ln, &rec)
	if c.Caller {
		rec.Caller = CallerAt(skip + 1)
	}
	var err error
	ln.Buf, err = c.Enc.AppendEvent(ln.Buf, fx, &rec, ti, p, box)
	if err != nil {
		c.Fail(fmt.Errorf("pipelog: %w", err))
	}
	if c.closed.Load() {
		c.dropClosed()
		return
	}
	ln.setEntry(&rec, level, ti.Name())
	c.deliver(ln, level, 0)
}

// Stages of a line for finish: being encoded, or being written to the
// sink of that index.
const stageEncode = -1

// deliver writes ln's entry to the sinks from index from on, recording in
// ln.stage which one it is in, and counts the line once every sink had it.
func (c *Core) deliver(ln *Line, level event.Level, from int) {
	for i := from; i < len(c.sinks); i++ {
		s := &c.sinks[i]
		if level < s.min {
			continue
		}
		ln.stage = i
		var err error
		if s.ew != nil {
			err = s.ew.WriteEntry(&ln.ent)
		} else {
			err = s.s.Write(ln.ent.Line)
		}
		if err != nil {
			c.sinkFailed(s, err)
			continue
		}
		ln.took = true
	}
	ln.stage = len(c.sinks)
	c.count(ln)
}

func (c *Core) count(ln *Line) {
	if ln.took {
		c.stats.written.Add(1)
	} else {
		c.stats.failed.Add(1)
	}
}

func (c *Core) sinkFailed(s *sinkRef, err error) {
	c.stats.sinkErrors.Add(1)
	c.Fail(&sink.WriteError{Sink: s.s, Err: err})
}

// finish ends EmitEvent: it returns ln to the pool, after handling a panic
// that cut the line short (see EmitEvent).
func (c *Core) finish(ln *Line, rec *encode.Record, level event.Level, ti *encode.Type, p unsafe.Pointer) {
	if r := recover(); r != nil {
		c.recovered(ln, rec, level, ti, p, r)
	}
	PutLine(ln)
}

// recovered handles a panic caught by finish: in a sink's Write, the line
// goes on to the sinks after it; while encoding, a minimal line is written
// in its place. Both are reported.
func (c *Core) recovered(ln *Line, rec *encode.Record, level event.Level, ti *encode.Type, p unsafe.Pointer, r any) {
	if i := ln.stage; i >= 0 && i < len(c.sinks) {
		c.sinkFailed(&c.sinks[i], fmt.Errorf("Write panicked: %v", encode.PanicText(r)))
		c.deliverGuarded(ln, level, i+1)
		return
	}
	name := ti.Name()
	c.Fail(fmt.Errorf("pipelog: encoding a %s panicked; a minimal line was written instead: %v", name, encode.PanicText(r)))
	if b := ti.Base(p); b != nil {
		rec.Base.Message = b.Message
	}
	rec.Base.Level = level
	ln.Buf = c.Enc.AppendFallback(ln.Buf[:0], rec.Time, rec, name, r)
	c.Write(ln, rec, level, name)
}

// deliverGuarded is deliver with a guard of its own, for the rare line that
// goes on after a sink panicked: a second panicking sink is handled the
// same way.
func (c *Core) deliverGuarded(ln *Line, level event.Level, from int) {
	defer func() {
		if r := recover(); r != nil {
			if i := ln.stage; i >= 0 && i < len(c.sinks) {
				c.sinkFailed(&c.sinks[i], fmt.Errorf("Write panicked: %v", encode.PanicText(r)))
				c.deliverGuarded(ln, level, i+1)
			}
		}
	}()
	c.deliver(ln, level, from)
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

// setEntry sets the entry the sinks get for the line in ln, encoded from
// rec.
func (ln *Line) setEntry(rec *encode.Record, level event.Level, name string) {
	c := &rec.Correlation
	trace := c.TraceID
	if trace == "" {
		trace = c.CorrelationID // what trace.id falls back to
	}
	ln.ent = sink.Entry{Line: ln.Buf, Level: level, Time: rec.Time, ID: ln.id[:], Name: name,
		Traced: true, TraceID: trace, SpanID: c.SpanID, CorrelationID: c.CorrelationID}
}

// Write hands the line in ln, encoded from rec, to every sink that takes
// level. A sink that fails or panics is counted and reported; the others
// still get the line.
func (c *Core) Write(ln *Line, rec *encode.Record, level event.Level, name string) {
	if c.closed.Load() {
		c.dropClosed()
		return
	}
	ln.setEntry(rec, level, name)
	ln.took = false
	c.deliverGuarded(ln, level, 0)
}

// dropClosed counts a line emitted after Close.
func (c *Core) dropClosed() {
	if c.stats.dropped.Add(1) == 1 {
		c.Fail(fmt.Errorf("pipelog: event emitted after Close, dropped (reported once; see Stats.Dropped): %w", sink.ErrClosed))
	}
}
