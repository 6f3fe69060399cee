package event

import "time"

// HTTP events, written by the pipelog HTTP middleware and client transport.
//
// ECS mapping of HTTPInfo (embedded in every HTTP event):
//
//	Kind          event.kind                 "event"
//	Category      event.category             ["web"]
//	Type          event.type                 ["access"] (completed), ["error"] (panicked), ["connection"] (client)
//	Outcome       event.outcome              see HTTPOutcome
//	Method        http.request.method
//	Path          url.path
//	Domain        url.domain                 (client events: the server's host)
//	BodyBytes     http.response.body.bytes
//	UserAgent     user_agent.original
//	ClientIP      client.ip
//	Start         event.start
//	Duration      event.duration             nanoseconds
//	Route         Pipelog.<Event>.route      route template (ECS has no field for it)
//	ParentSpanID  Pipelog.<Event>.parent_span_id  the remote parent span (server) or this service's span (client)
//	InvalidHeaders Pipelog.<Event>.invalid_headers  propagation headers rejected and replaced (names only)
//
// The response status is Base.StatusCode (http.response.status_code, written
// by the library). url.original and the query string are deliberately not
// logged: they often carry secrets (tokens, e-mail addresses).
type HTTPInfo struct {
	Kind           string        `ecs:"event.kind"`
	Category       []string      `ecs:"event.category"`
	Type           []string      `ecs:"event.type"`
	Outcome        string        `ecs:"event.outcome"`
	Method         string        `ecs:"http.request.method"`
	Path           string        `ecs:"url.path"`
	Domain         string        `ecs:"url.domain"`
	BodyBytes      int64         `ecs:"http.response.body.bytes"`
	UserAgent      string        `ecs:"user_agent.original"`
	ClientIP       string        `ecs:"client.ip"`
	Start          time.Time     `ecs:"event.start"`
	Duration       time.Duration `ecs:"event.duration"`
	Route          string        `json:"route,omitempty"`
	ParentSpanID   string        `json:"parent_span_id,omitempty"`
	InvalidHeaders []string      `json:"invalid_headers,omitempty"`
}

// HTTPOutcome returns the ECS event.outcome of an HTTP exchange that ended
// with status, following Elastic APM: for the server a request failed when
// it answered 5xx (a 4xx is the client's failure, not the server's); for the
// client any status from 400 is a failure. No status (0) is "unknown".
func HTTPOutcome(status int, server bool) string {
	switch {
	case status <= 0:
		return OutcomeUnknown
	case status >= 500, status >= 400 && !server:
		return OutcomeFailure
	default:
		return OutcomeSuccess
	}
}

// NewHTTPInfo returns an HTTPInfo with event.kind, category ["web"], the
// event.type for typ ("access" and "error": server events; "connection":
// client events) and the outcome derived from status (HTTPOutcome).
func NewHTTPInfo(typ string, status int) HTTPInfo {
	hi := HTTPInfo{Kind: "event", Category: categoryWeb, Outcome: HTTPOutcome(status, typ != "connection")}
	switch typ {
	case "error":
		hi.Type = typeError
	case "connection":
		hi.Type = typeConnection
	default:
		hi.Type = typeAccess
	}
	return hi
}

// HTTPRequestCompleted is written by the server middleware once per request
// (info below 500, error from 500). The status is
// Base.StatusCode.
type HTTPRequestCompleted struct {
	Base
	HTTPInfo
}

// HTTPHandlerPanicked is written by the server middleware when a handler
// panicked (error); Base.Err is a *PanicError with the value and the stack
// at the panic.
type HTTPHandlerPanicked struct {
	Base
	HTTPInfo
	Aborted bool `json:"aborted,omitempty"` // the panic was http.ErrAbortHandler
}

// HTTPClientRequestCompleted is written by the client transport of a Logger
// for each outgoing request: its span.id is the span ID sent to the server
// in traceparent (the server's parent), and ParentSpanID is the span of the
// code that made the call. Base.Err is the transport error, if any.
type HTTPClientRequestCompleted struct {
	Base
	HTTPInfo
}
