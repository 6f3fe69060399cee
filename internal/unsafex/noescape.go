// Package unsafex hides a pointer from escape analysis.
//
// It exists for one reason: pipelog.Emit takes a typed event by value and
// reads it through a pointer. Without help, the compiler sees that pointer
// flow into code it cannot follow (method values, reflection) and moves every
// event to the heap: one allocation per Emit. The pointer is only ever used
// during the call and never stored, which is the condition for NoEscape to be
// safe; the event's contents (strings, slices it refers to) still escape
// through a boxed path kept on purpose in ecs.AppendEvent, so nothing on the
// caller's stack is ever referenced from the heap.
package unsafex

import "unsafe"

// NoEscape returns p, hiding it from escape analysis. The caller must not
// let the result, or anything derived from it, outlive the call that holds p.
func NoEscape(p unsafe.Pointer) unsafe.Pointer {
	x := uintptr(p)
	return *(*unsafe.Pointer)(unsafe.Pointer(&x))
}
