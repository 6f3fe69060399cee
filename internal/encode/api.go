package encode

import (
	"reflect"
	"unsafe"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/unsafex"
)

// EventPointer is the constraint of AppendEvent: *E must be an event.Event,
// which it is when E embeds event.Base.
type EventPointer[E any] interface {
	*E
	event.Event
}

// AppendEvent appends the typed event ev to dst as one NDJSON line and
// returns the extended buffer. rec supplies time, event ID, correlation and
// caller; its Base is taken from ev.
//
// The error is non-nil the first time this Encoder meets an event type whose
// definition is wrong (an ecs tag that does not fit ECS, say): the line is
// still written, without the bad fields, and lists the problem in
// Pipelog.encode_errors.
//
// ev is taken by value and read in place: AppendEvent does not allocate for
// events whose fields are strings, numbers, booleans, times, durations,
// []string, errors and nested structs of those.
func AppendEvent[E any, P EventPointer[E]](e *Encoder, dst []byte, rec *Record, ev E) ([]byte, error) {
	// rec is only read during the call; hiding it keeps the caller's Record
	// (and the event ID it points into) on the caller's stack.
	rec = (*Record)(unsafex.NoEscape(unsafe.Pointer(rec)))
	pl := e.planFor(reflect.TypeFor[E]())
	var err error
	if pl.err != nil && pl.reported.CompareAndSwap(false, true) {
		err = pl.err
	}
	p := unsafex.NoEscape(unsafe.Pointer(&ev))
	if b := P(p).EventBase(); b != nil { // nil when E embeds a nil *event.Base
		rec.Base = *b
	}
	if pl.ti.boxed {
		// Types whose definition is broken are encoded from a heap copy.
		// This path must stay: it is also what tells the compiler that
		// ev's contents escape, which makes reading ev in place below safe.
		return e.appendBoxed(dst, rec, pl, any(ev)), err
	}
	return e.appendLine(dst, rec, pl, p, nil), err
}

func (e *Encoder) appendBoxed(dst []byte, rec *Record, pl *plan, v any) []byte {
	p := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] // the heap copy any(ev) made
	return e.appendLine(dst, rec, pl, p, nil)
}

// AppendRecord appends a line that carries no typed event: only rec, and
// extra, which is zero or more `"key":value` members, comma-separated, that
// go inside the Pipelog object. Adapters (slog, zap) use it.
func (e *Encoder) AppendRecord(dst []byte, rec *Record, extra []byte) []byte {
	return e.appendLine(dst, rec, e.base, nil, extra)
}
