// Package event defines what a pipelog event is: a Go struct type that embeds
// Base. The event's name is its type's name; the Base carries the fields every
// event has (level, message, reason, status code, warning, error); every
// other exported field is the event's own data.
//
//	type BadRequestReceived struct {
//		event.Base
//		Path   string `ecs:"url.path"` // an ECS field, type-checked once per type
//		Tenant string                  // a custom field
//	}
//
//	pipelog.Emit(ctx, log, BadRequestReceived{Base: event.Error("rejected order"), Path: "/orders"})
//
// Field tags:
//
//	`ecs:"url.path"`   write the field at this ECS path; its Go type must fit
//	                   the ECS type (checked when the event type is first seen)
//	`ecs:"-"`          never write the field
//	`json:"name"`      name a custom field (",omitempty" is honoured); `json:"-"` skips it
//
// Untagged exported fields are custom fields, written under
// Pipelog.<EventName>.<Field>: ECS never uses capital letters, so the
// capitalised root can never collide with an ECS field, and because each
// event type has its own object, two event types can never produce an
// Elasticsearch mapping conflict between them.
//
// Package event imports only the standard library.
package event

// Event is what pipelog.Emit accepts: a struct type that embeds Base (by
// value, or as *Base), or a pointer to one. Its one method is unexported and
// promoted from Base, so no other type can satisfy it: the compiler rejects
// anything that is not an event, and pipelog never calls a method of the
// event's own to reach its fields (it reads them at offsets computed once
// per type).
type Event interface {
	pipelogEvent()
}

// Base carries the fields every event has. Embed it by value.
//
// ECS mapping: Level → log.level, Message → message, Reason → event.reason,
// StatusCode → http.response.status_code, Warning → Pipelog.warning,
// Err → error.message, error.type and error.stack_trace.
type Base struct {
	Level      Level
	Message    string
	Reason     string
	StatusCode int
	Warning    string
	Err        error
}

func (Base) pipelogEvent() {}

// Debug returns a Base at LevelDebug with msg as its message.
func Debug(msg string) Base { return Base{Level: LevelDebug, Message: msg} }

// Info returns a Base at LevelInfo with msg as its message.
func Info(msg string) Base { return Base{Level: LevelInfo, Message: msg} }

// Warn returns a Base at LevelWarn with msg as its message.
func Warn(msg string) Base { return Base{Level: LevelWarn, Message: msg} }

// Error returns a Base at LevelError with msg as its message.
func Error(msg string) Base { return Base{Level: LevelError, Message: msg} }

// WithErr returns a copy of b carrying err.
func (b Base) WithErr(err error) Base { b.Err = err; return b }

// WithReason returns a copy of b carrying reason (ECS event.reason).
func (b Base) WithReason(reason string) Base { b.Reason = reason; return b }

// WithStatus returns a copy of b carrying an HTTP status code.
func (b Base) WithStatus(code int) Base { b.StatusCode = code; return b }

// WithWarning returns a copy of b carrying a warning.
func (b Base) WithWarning(w string) Base { b.Warning = w; return b }

// Label is one key/value pair written under the ECS "labels" object. It is
// shared by the context and encoder packages so labels cross them uncopied.
type Label struct {
	Key, Value string
}
