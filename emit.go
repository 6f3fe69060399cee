package pipelog

import (
	"context"
	"sync"
	"unsafe"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/internal/unsafex"
)

// Emit writes ev, a struct embedding event.Base, through l. The event's
// name is its type's name; correlation, trace and worker values come from
// ctx (see package logctx). A nil Logger discards the event.
//
// Emit checks the level before any work: a disabled event costs a call and a
// comparison (building the event value is the caller's cost). It does
// not allocate for events made of strings, numbers, booleans, times,
// durations, []string, errors and nested structs of those.
func Emit[E any, P encode.EventPointer[E]](ctx context.Context, l *Logger, ev E) {
	// Kept small enough to inline, so a disabled event costs the caller a
	// method call and a comparison, not a call with the event copied.
	if l == nil {
		return
	}
	if level := levelOf(P(unsafex.NoEscape(unsafe.Pointer(&ev))).EventBase()); l.Enabled(level) {
		emit[E, P](ctx, l, level, ev)
	}
}

// levelOf is b's level; an event embedding a nil *event.Base is at LevelInfo.
func levelOf(b *event.Base) event.Level {
	if b == nil {
		return event.LevelInfo
	}
	return b.Level
}

func emit[E any, P encode.EventPointer[E]](ctx context.Context, l *Logger, level event.Level, ev E) {
	c := l.core
	buf := getBuffer()
	var id [32]byte
	rec := encode.Record{Time: c.now(), EventID: c.ids.next(&id)}
	c.gather(ctx, &rec, 2)
	// rec (and the event ID it points into) is read only during the call;
	// hiding it from escape analysis keeps both on this stack frame.
	recp := (*encode.Record)(unsafex.NoEscape(unsafe.Pointer(&rec)))
	var err error
	buf.b, err = encode.AppendEvent[E, P](l.enc, buf.b[:0], recp, ev)
	if err != nil {
		c.fail(err)
	}
	c.write(level, buf.b)
	putBuffer(buf)
}

// gather fills rec from ctx and, when enabled, the caller: skip 0 is the
// function that called gather.
func (c *core) gather(ctx context.Context, rec *encode.Record, skip int) {
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
	if c.caller {
		rec.Caller = callerAt(skip + 1)
	}
	if c.thread {
		rec.ThreadID = goroutineID()
	}
}

type buffer struct{ b []byte }

var buffers = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 2048)} }}

func getBuffer() *buffer { return buffers.Get().(*buffer) }

// putBuffer returns buf to the pool unless one huge line grew it: keeping
// that would pin its memory for the life of the process.
func putBuffer(buf *buffer) {
	if cap(buf.b) > 64<<10 {
		return
	}
	buffers.Put(buf)
}
