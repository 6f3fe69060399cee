package encode

import (
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/pipelog/pipelog/event"
)

// Type is what the encoder knows of one event type. Get it with TypeFor.
type Type = typeInfo

// typeSlots caches typeInfo by the address of a type's descriptor: the
// lookup of every Emit is a multiply, a load and a compare. Two types that
// share a slot take turns in it; describe's map is the fallback.
var typeSlots [1024]atomic.Pointer[typeInfo]

// TypeFor returns the *Type of the event type E.
func TypeFor[E any]() *Type { return typeOf(reflect.TypeFor[E]()) }

func typeOf(t reflect.Type) *typeInfo {
	// A type descriptor's address is fixed for the life of the process: it
	// is only ever compared, never turned back into a pointer.
	k := reflect.ValueOf(t).Pointer()
	slot := &typeSlots[(uint64(k)*0x9E3779B97F4A7C15)>>54]
	if ti := slot.Load(); ti != nil && ti.key == k {
		return ti
	}
	ti := describe(t)
	slot.Store(ti)
	return ti
}

// Name is the event's name: its type's name.
func (ti *Type) Name() string { return ti.name }

// NeedsBox reports whether AppendEvent needs a heap copy of the event (see
// there).
func (ti *Type) NeedsBox() bool { return ti.needsBox }

// Level returns the level of the event p points to (a value of type ti;
// for a pointer type, the pointer). An event embedding a nil *event.Base,
// or a nil pointer event, is at LevelInfo.
func (ti *Type) Level(p unsafe.Pointer) event.Level {
	if b := ti.base(p); b != nil {
		return b.Level
	}
	return event.LevelInfo
}

// Base returns the Base of the event p points to (see Level), or nil. It
// is only read.
func (ti *Type) Base(p unsafe.Pointer) *event.Base { return ti.base(p) }

// base returns the event's Base, or nil.
func (ti *typeInfo) base(p unsafe.Pointer) *event.Base {
	if ti.ptr {
		if p = *(*unsafe.Pointer)(p); p == nil {
			return nil
		}
	}
	if !ti.hasBase {
		return nil
	}
	b := unsafe.Add(p, ti.baseOff)
	if ti.basePtr {
		return *(**event.Base)(b)
	}
	return (*event.Base)(b)
}

// AppendEvent appends the typed event at p (a value of type ti; for a
// pointer type, the pointer) to dst as one NDJSON line and returns the
// extended buffer. rec supplies time, event ID, correlation and caller; its
// Base is taken from the event. fx holds the Logger's fixed fields.
//
// p is only read, never kept nor passed to code that could keep it, so it
// may point into the caller's stack: Emit reads the event in place, without
// copying it to the heap. Fields that only reflection or the value's own
// methods can read (NeedsBox) are read from box instead, a heap copy of the
// same value that the caller makes for such types (nil otherwise).
//
// The error is non-nil the first time this Encoder meets an event type whose
// definition is wrong (an ecs tag that does not fit ECS, say): the line is
// still written, without the bad fields, and lists the problem in
// Pipelog.encode_errors.
func (e *Encoder) AppendEvent(dst []byte, fx *Fixed, rec *Record, ti *Type, p, box unsafe.Pointer) ([]byte, error) {
	pl := e.planFor(ti, fx.shapeOf())
	var err error
	if pl.err != nil && pl.reported.CompareAndSwap(false, true) {
		err = pl.err
	}
	if b := ti.base(p); b != nil {
		rec.Base = *b
	}
	if ti.ptr {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			// A nil pointer event: its type's zero value, and a note.
			q = ti.zero
			rec.Base.Level = event.LevelInfo
			return e.appendInput(dst, &input{rec: rec, fx: fx, p: q, plan: pl, nilEvent: true}, pl, q, nil), err
		}
		// What the pointer points to is the caller's, not a copy of ours;
		// reflection may read it directly.
		p, box = q, q
	}
	return e.appendLine(dst, fx, rec, pl, p, box, nil), err
}

// AppendRecord appends a line that carries no typed event: only rec, and
// extra, which is zero or more `"key":value` members, comma-separated, that
// go inside the Pipelog object. Adapters (slog, zap) use it.
func (e *Encoder) AppendRecord(dst []byte, fx *Fixed, rec *Record, extra []byte) []byte {
	return e.appendLine(dst, fx, rec, e.planFor(nil, fx.shapeOf()), nil, nil, extra)
}

// Box returns a heap copy of *ev when its type needs one (NeedsBox), else
// nil: the box argument of AppendEvent. It only reads *ev.
func Box[E any](ti *Type, ev *E) unsafe.Pointer {
	if !ti.needsBox {
		return nil
	}
	b := new(E)
	*b = *ev
	return unsafe.Pointer(b)
}
