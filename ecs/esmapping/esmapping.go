// Package esmapping generates the Elasticsearch mapping of pipelog's lines
// from the Go event types a program writes, and lints it.
//
// Every typed event is known at compile time, and so is every path the
// encoder can write for it: Build asks the encoder (it does not re-derive its
// rules) and maps each path explicitly, so Elasticsearch's dynamic rules —
// the suffix patterns of the built-in ecs@mappings template (*.ip,
// *.message_id, *.location, *.start, …), which apply at any depth — never
// decide the type of a field pipelog writes:
//
//	string, error, Stringer, MarshalText   keyword (ignore_above 1024); tag mapping:"text",
//	                                       "match_only_text" or "wildcard" for those instead
//	bool                                   boolean
//	int…int64, uint8…uint32                long
//	uint, uint64, uintptr                  unsigned_long
//	float32, float64                       double
//	time.Time                              date (strict_date_optional_time, what the encoder writes)
//	time.Duration                          long (nanoseconds)
//	[]byte                                 binary (encoding/json writes it in base64)
//	struct                                 object with its fields
//	map                                    flattened (one field, whatever its keys); tag
//	                                       mapping:"object" for an object with typed values
//	slice, array                           the element's mapping
//	interface, MarshalJSON                 object with "enabled": false (kept, not indexed)
//	field tagged ecs:"a.b"                 the ECS mapping of a.b (official composable templates)
//
// mapping:"none" on any field keeps it in _source without indexing it. The
// library's own fields (service.*, event.*, trace.id, error.*, …) get their
// ECS mappings too, and dynamic templates give every other string below
// Pipelog and labels a keyword, so even an event type nobody registered
// cannot fall into a suffix rule.
//
// Which types: Register[E]() adds one (call it from an init function or
// main, next to the type); Build with no Types takes those plus the
// library's own events (job lifecycle, HTTP). A separate program (the
// pipelog CLI) cannot know a program's types, which is why a program runs
// setup itself: see package pipelogsetup.
//
// The package imports the standard library, package event and the
// module's encoder. Register is safe for concurrent use; a Mappings is
// immutable.
package esmapping

import (
	"reflect"
	"sync"

	"github.com/pipelog/pipelog/event"
)

var registry struct {
	mu    sync.Mutex
	types []reflect.Type
}

// Register adds the event type E to the types Build maps by default.
// Registering a type twice is harmless.
func Register[E event.Event]() { RegisterType(reflect.TypeFor[E]()) }

// RegisterType is Register for a type known only at run time.
func RegisterType(t reflect.Type) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, r := range registry.types {
		if r == t {
			return
		}
	}
	registry.types = append(registry.types, t)
}

// Registered returns the registered types, in the order of registration.
func Registered() []reflect.Type {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return append([]reflect.Type(nil), registry.types...)
}

// LibraryEvents are the event types pipelog itself emits: RunJob's job
// lifecycle, the HTTP middleware's and client transport's events, the
// sampling summary and the self-monitoring event.
func LibraryEvents() []reflect.Type {
	return []reflect.Type{
		reflect.TypeFor[event.JobStarted](), reflect.TypeFor[event.JobSucceeded](),
		reflect.TypeFor[event.JobFailed](), reflect.TypeFor[event.JobPanicked](),
		reflect.TypeFor[event.JobInterrupted](), reflect.TypeFor[event.HTTPRequestCompleted](),
		reflect.TypeFor[event.HTTPHandlerPanicked](), reflect.TypeFor[event.HTTPClientRequestCompleted](),
		reflect.TypeFor[event.EventsSampled](), reflect.TypeFor[event.LoggerStats](),
	}
}
