package logctx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/pipelog/pipelog/event"
)

func otelSpanContext(t testing.TB, traceHex, spanHex string, sampled bool) trace.SpanContext {
	t.Helper()
	tid, err := trace.TraceIDFromHex(traceHex)
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex(spanHex)
	require.NoError(t, err)
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	ts, err := trace.ParseTraceState("otel=abc")
	require.NoError(t, err)
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, TraceState: ts, Remote: true})
}

func TestFromUsesOTelSpan(t *testing.T) {
	const otelTrace, otelSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	tests := []struct {
		name      string
		ctx       func() context.Context
		sampled   bool
		wantState string
		wantCorr  string
	}{
		{
			name: "only an OTel span",
			ctx: func() context.Context {
				return trace.ContextWithSpanContext(context.Background(), otelSpanContext(t, otelTrace, otelSpan, true))
			},
			sampled: true,
		},
		{
			name: "OTel span overrides a different logctx trace; other values kept",
			ctx: func() context.Context {
				ctx := With(context.Background(), Values{CorrelationID: "run-1", TraceID: tpTraceID, SpanID: tpSpanID, TraceState: "a=b", TraceFlags: FlagSampled, Worker: "w1"})
				return trace.ContextWithSpanContext(ctx, otelSpanContext(t, otelTrace, otelSpan, false))
			},
			wantCorr: "run-1",
		},
		{
			name: "same trace: tracestate kept",
			ctx: func() context.Context {
				ctx := With(context.Background(), Values{TraceID: otelTrace, SpanID: tpSpanID, TraceState: "a=b"})
				return trace.ContextWithSpanContext(ctx, otelSpanContext(t, otelTrace, otelSpan, true))
			},
			sampled:   true,
			wantState: "a=b",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx()
			for range 2 { // second call is served from the cache
				v := From(ctx)
				assert.Equal(t, otelTrace, v.TraceID)
				assert.Equal(t, otelSpan, v.SpanID)
				assert.Equal(t, tc.sampled, v.TraceFlags&FlagSampled != 0)
				assert.Equal(t, tc.wantState, v.TraceState)
				assert.Equal(t, tc.wantCorr, v.CorrelationID)
			}
			// The stored values are untouched: setters do not freeze the OTel IDs.
			ctx2 := WithLabel(ctx, "k", "v")
			assert.NotEqual(t, otelTrace+otelSpan, stored(ctx2).TraceID+stored(ctx2).SpanID)
			assert.Equal(t, otelSpan, From(ctx2).SpanID)
		})
	}
}

func TestFromIgnoresInvalidOTelSpan(t *testing.T) {
	ctx := With(context.Background(), Values{TraceID: tpTraceID, SpanID: tpSpanID})
	ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	v := From(ctx)
	assert.Equal(t, tpTraceID, v.TraceID)
	assert.Equal(t, tpSpanID, v.SpanID)
	assert.Equal(t, Values{}, From(context.Background()))
	assert.Equal(t, Values{}, From(nil)) //nolint:staticcheck // nil ctx is tolerated
}

func TestFromOTelCacheCollision(t *testing.T) {
	// Two spans landing in the same cache slot must never be confused.
	a := otelSpanContext(t, otelTraceA, "1111000000000001", true)
	b := otelSpanContext(t, otelTraceA, "1111000000000002", true)
	require.Equal(t, otelSlot(a.TraceID(), a.SpanID()), otelSlot(b.TraceID(), b.SpanID()))
	ca := trace.ContextWithSpanContext(context.Background(), a)
	cb := trace.ContextWithSpanContext(context.Background(), b)
	for range 3 {
		assert.Equal(t, "1111000000000001", From(ca).SpanID)
		assert.Equal(t, "1111000000000002", From(cb).SpanID)
	}
}

const otelTraceA = "0af7651916cd43dd8448eb211c80319c"

func TestFromZeroAllocs(t *testing.T) {
	base := WithLabels(WithWorker(WithCorrelationID(context.Background(), "c-1"), "w"), event.Label{Key: "a", Value: "b"})
	withOTel := trace.ContextWithSpanContext(base, otelSpanContext(t, otelTraceA, "b7ad6b7169203331", true))
	for name, ctx := range map[string]context.Context{"empty": context.Background(), "values": base, "otel": withOTel} {
		From(ctx) // warm the OTel cache
		allocs := testing.AllocsPerRun(100, func() { _ = From(ctx) })
		assert.Zero(t, allocs, name)
	}
}

var sinkValues Values

func BenchmarkFrom(b *testing.B) {
	base := WithLabels(WithWorker(WithTrace(WithCorrelationID(context.Background(), "c-1"), tpTraceID, tpSpanID), "w"), event.Label{Key: "a", Value: "b"})
	sc := otelSpanContext(b, otelTraceA, "b7ad6b7169203331", true)
	cases := []struct {
		name string
		ctx  context.Context
	}{
		{"Empty", context.Background()},
		{"Values", base},
		{"OTelSpan", trace.ContextWithSpanContext(context.Background(), sc)},
		{"ValuesAndOTelSpan", trace.ContextWithSpanContext(base, sc)},
		// A realistic request context: a few unrelated layers on top.
		{"ValuesDeep", context.WithValue(context.WithValue(context.WithValue(base, ctxKey(1), 1), ctxKey(2), 2), ctxKey(3), 3)},
	}
	// Baseline: the lookup From did before the OTel overlay was added.
	b.Run("ValuesStoredOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkValues = stored(base)
		}
	})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkValues = From(c.ctx)
			}
		})
	}
}

type ctxKey int
