// Package logctx carries the values pipelog attaches to every event through
// a context.Context: correlation ID, W3C trace context, the worker ("thread")
// name and labels.
//
// The package lives in the folder context/ but is named logctx so that code
// importing it never has to shadow or rename the standard library's context
// package:
//
//	import (
//		"context"
//
//		"github.com/pipelog/pipelog/context" // package logctx
//	)
//
// All values live in one immutable Values struct under a single unexported
// context key: each setter copies it, and a Logger reads every value with one
// ctx.Value lookup, however many were set (plus one for an OpenTelemetry
// span, below). Values are safe for concurrent use
// because they are never modified after being stored.
//
// # Mapping to ECS fields
//
// pipelog's encoder writes the Values returned by From as follows:
//
//	TraceID        trace.id             (when empty: CorrelationID, so every event has a trace.id to search on)
//	SpanID         span.id
//	TransactionID  transaction.id
//	RequestID      http.request.id
//	Worker         process.thread.name
//	Labels         labels.<key>         (keys sanitised per the ecs-logging spec)
//	CorrelationID  trace.id when TraceID is empty (above); when both are set
//	               and differ, labels.correlation_id
//	TraceFlags     not written (propagation only)
//	TraceState     not written (propagation only)
//
// # OpenTelemetry
//
// When an OpenTelemetry span is active in the context
// (go.opentelemetry.io/otel/trace: trace.SpanContextFromContext returns a
// valid span context), From takes its trace ID and span ID, hex-encoded, in
// place of the stored ones, and its sampled flag, so logs line up with
// traces on trace.id and span.id. A stored TraceState is kept only when it
// belongs to the same trace. Everything else (correlation, transaction and
// request IDs, worker, labels) still comes from logctx. This costs one more
// ctx.Value lookup and no allocation once a span's IDs have been encoded.
//
// # Propagation
//
// Middleware (HTTP servers) and Extract (broker messages) read W3C
// traceparent/tracestate and X-Correlation-ID/X-Request-ID, validate them,
// continue the trace with a new span ID for the hop (the incoming
// parent-id is available as ParentSpanID), and mint what is missing or
// malformed. Transport (HTTP clients) and Inject (broker messages) write
// them. When nothing else provides one, the correlation ID is the trace ID;
// NewCorrelationID mints IDs in trace-id form so one ID can be both.
//
// Everything here is safe for concurrent use. The package imports the
// standard library (net/http for the middleware, transport and header
// carrier), go.opentelemetry.io/otel/trace (to read an active span) and
// package event (for event.Label), nothing else of pipelog.
package logctx

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/pipelog/pipelog/event"
)

// Values is everything logctx keeps in a context. The zero value means
// "nothing set". Treat a Values obtained from From as read-only: its Labels
// slice is shared with the context it came from.
type Values struct {
	CorrelationID string // one ID that follows a unit of work across processes
	TraceID       string // W3C trace-id, 32 lowercase hex digits
	SpanID        string // W3C parent-id of the current hop, 16 lowercase hex digits
	TraceFlags    byte   // W3C trace-flags (bit 0: sampled)
	TraceState    string // W3C tracestate, passed through untouched
	TransactionID string
	RequestID     string
	Worker        string
	Labels        []event.Label
}

type valuesKey struct{}

// From returns the values stored in ctx, or the zero Values. When an
// OpenTelemetry span is active in ctx, its trace ID, span ID and sampled
// flag replace the stored ones (see the package doc). It costs two
// ctx.Value lookups (logctx's and OpenTelemetry's) and does not allocate,
// except once per OTel span seen for the first time (to hex-encode its IDs).
func From(ctx context.Context) (out Values) {
	if ctx == nil {
		return
	}
	if v, ok := ctx.Value(valuesKey{}).(*Values); ok {
		out = *v
	}
	if span := trace.SpanFromContext(ctx); span != otelNoopSpan {
		if sc := span.SpanContext(); sc.IsValid() {
			applySpanContext(&out, &sc)
		}
	}
	return
}

// stored returns the values stored by logctx itself, ignoring any OTel span.
func stored(ctx context.Context) Values {
	if ctx == nil {
		return Values{}
	}
	if v, ok := ctx.Value(valuesKey{}).(*Values); ok {
		return *v
	}
	return Values{}
}

// With returns a copy of ctx that carries v, replacing whatever logctx values
// ctx carried before. v.Labels is copied.
func With(ctx context.Context, v Values) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if v.Labels != nil {
		v.Labels = append([]event.Label(nil), v.Labels...)
	}
	return context.WithValue(ctx, valuesKey{}, &v)
}

func update(ctx context.Context, set func(*Values)) context.Context {
	v := stored(ctx) // not From: an active OTel span is not frozen into the stored values
	set(&v)
	return context.WithValue(orBackground(ctx), valuesKey{}, &v)
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// WithCorrelationID returns a copy of ctx carrying the correlation ID id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return update(ctx, func(v *Values) { v.CorrelationID = id })
}

// CorrelationID returns the correlation ID in ctx, or "".
func CorrelationID(ctx context.Context) string { return From(ctx).CorrelationID }

// WithTrace returns a copy of ctx carrying a W3C trace ID and span ID (lowercase
// hex). It does not validate them; use ParseTraceparent for untrusted input.
func WithTrace(ctx context.Context, traceID, spanID string) context.Context {
	return update(ctx, func(v *Values) { v.TraceID, v.SpanID = traceID, spanID })
}

// TraceID returns the trace ID in ctx, or "".
func TraceID(ctx context.Context) string { return From(ctx).TraceID }

// SpanID returns the span ID in ctx, or "".
func SpanID(ctx context.Context) string { return From(ctx).SpanID }

// WithTransactionID returns a copy of ctx carrying an ECS transaction.id.
func WithTransactionID(ctx context.Context, id string) context.Context {
	return update(ctx, func(v *Values) { v.TransactionID = id })
}

// WithRequestID returns a copy of ctx carrying an ECS http.request.id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return update(ctx, func(v *Values) { v.RequestID = id })
}

// RequestID returns the request ID in ctx, or "".
func RequestID(ctx context.Context) string { return From(ctx).RequestID }

// WithWorker returns a copy of ctx naming the worker ("thread") that handles
// it; events emitted with it carry process.thread.name.
func WithWorker(ctx context.Context, name string) context.Context {
	return update(ctx, func(v *Values) { v.Worker = name })
}

// Worker returns the worker name in ctx, or "".
func Worker(ctx context.Context) string { return From(ctx).Worker }

// WithLabel returns a copy of ctx with the label key=value added. A label
// whose key is already present is replaced, so keys stay unique.
func WithLabel(ctx context.Context, key, value string) context.Context {
	return WithLabels(ctx, event.Label{Key: key, Value: value})
}

// WithLabels returns a copy of ctx with labels added; later keys replace
// earlier ones with the same key.
func WithLabels(ctx context.Context, labels ...event.Label) context.Context {
	return update(ctx, func(v *Values) {
		merged := make([]event.Label, len(v.Labels), len(v.Labels)+len(labels))
		copy(merged, v.Labels)
		for _, l := range labels {
			merged = setLabel(merged, l)
		}
		v.Labels = merged
	})
}

func setLabel(labels []event.Label, l event.Label) []event.Label {
	for i := range labels {
		if labels[i].Key == l.Key {
			labels[i].Value = l.Value
			return labels
		}
	}
	return append(labels, l)
}

// Labels returns the labels in ctx. The slice is shared: do not modify it.
func Labels(ctx context.Context) []event.Label { return From(ctx).Labels }
