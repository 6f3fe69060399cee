package logctx

import (
	"context"
	"encoding/hex"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// OpenTelemetry span contexts hold their IDs as byte arrays, while Values
// holds lowercase hex strings. Hex-encoding on every From would allocate,
// so the strings of recently seen spans are kept in a small direct-mapped,
// lock-free cache indexed by the (random) span ID: the first From under a
// span allocates once, every later one is a few loads and compares.

// otelNoopSpan is what trace.SpanFromContext returns when no span is
// active; From compares against it to skip the SpanContext call.
var otelNoopSpan = trace.SpanFromContext(context.Background())

type otelIDs struct {
	tid      trace.TraceID
	sid      trace.SpanID
	traceHex string
	spanHex  string
}

const otelCacheSize = 1024 // power of two

var otelCache [otelCacheSize]atomic.Pointer[otelIDs]

func otelSlot(tid trace.TraceID, sid trace.SpanID) *atomic.Pointer[otelIDs] {
	h := uint64(sid[0]) | uint64(sid[1])<<8 | uint64(tid[15])<<16
	return &otelCache[h&(otelCacheSize-1)]
}

// applySpanContext overlays a valid OTel span context on v: trace ID, span
// ID and the sampled flag. A tracestate stored by logctx is kept only when
// it belongs to the same trace.
func applySpanContext(v *Values, sc *trace.SpanContext) {
	tid, sid := sc.TraceID(), sc.SpanID()
	slot := otelSlot(tid, sid)
	e := slot.Load()
	if e == nil || e.tid != tid || e.sid != sid {
		e = newOTelIDs(v, tid, sid)
		slot.Store(e)
	}
	if v.TraceID != e.traceHex {
		v.TraceState = ""
		v.TraceFlags = 0
	}
	v.TraceID, v.SpanID = e.traceHex, e.spanHex
	if sc.IsSampled() {
		v.TraceFlags |= FlagSampled
	} else {
		v.TraceFlags &^= FlagSampled
	}
}

func newOTelIDs(v *Values, tid trace.TraceID, sid trace.SpanID) *otelIDs {
	var buf [48]byte
	hex.Encode(buf[:32], tid[:])
	hex.Encode(buf[32:], sid[:])
	e := &otelIDs{tid: tid, sid: sid}
	// Reuse the strings logctx already holds when they match (no copy).
	switch {
	case v.TraceID == string(buf[:32]) && v.SpanID == string(buf[32:]):
		e.traceHex, e.spanHex = v.TraceID, v.SpanID
	case v.TraceID == string(buf[:32]):
		e.traceHex, e.spanHex = v.TraceID, string(buf[32:])
	default:
		s := string(buf[:])
		e.traceHex, e.spanHex = s[:32], s[32:]
	}
	return e
}

// otelTraceState returns the tracestate of the OTel span active in ctx, or
// "" (used when propagating, never by From, because it allocates).
func otelTraceState(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceState().String()
}
