package pipelog

import (
	"context"
	"unsafe"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
)

// Emit writes ev, a struct embedding event.Base (or a pointer to one),
// through l. The event's name is its type's name; correlation, trace and
// worker values come from ctx (see package logctx). A nil Logger discards
// the event.
//
// Emit checks the level before any work: a disabled event costs a type
// lookup and a comparison (building the event value is the caller's cost).
// It does not allocate for events made of strings, numbers, booleans,
// times, durations, []string, errors, pointers and nested structs of
// those; a field that only reflection can write (a map, another slice, a
// value with a String or MarshalJSON method) costs a heap copy of the event
// and what reflection allocates.
func Emit[E event.Event](ctx context.Context, l *Logger, ev E) {
	if l == nil {
		return
	}
	ti := encode.TypeFor[E]()
	level := ti.Level(unsafe.Pointer(&ev))
	if !l.h.C.Enabled(level) {
		return
	}
	// The encoder reads ev in place and keeps nothing of it, so ev stays on
	// this stack frame. Only reflection and the fields' own methods may keep
	// what they are given: for types that need them, they get a heap copy
	// (encode.Box).
	l.h.C.EmitEvent(ctx, l.h.Fixed, ti, level, unsafe.Pointer(&ev), encode.Box(ti, &ev), 1)
}
