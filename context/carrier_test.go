package logctx

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCarrierRoundTrip(t *testing.T) {
	carriers := map[string]func() Carrier{
		"MapCarrier":    func() Carrier { return MapCarrier{} },
		"HeaderCarrier": func() Carrier { return HeaderCarrier(http.Header{}) },
	}
	for name, mk := range carriers {
		t.Run(name, func(t *testing.T) {
			producer := With(context.Background(), Values{
				CorrelationID: "batch-7", TraceID: tpTraceID, SpanID: tpSpanID,
				TraceFlags: FlagSampled, TraceState: "rojo=1,congo=2",
			})
			c := mk()
			Inject(producer, c)
			assert.Equal(t, tpValid, c.Get(HeaderTraceparent), "Inject stamps the producer's own span")
			assert.Equal(t, "rojo=1,congo=2", c.Get(HeaderTracestate))
			assert.Equal(t, "batch-7", c.Get(HeaderCorrelationID))
			assert.Len(t, c.Keys(), 3)

			consumerBase := WithWorker(context.Background(), "consumer-1")
			consumer := Extract(consumerBase, c)
			v := From(consumer)
			assert.Equal(t, tpTraceID, v.TraceID)
			assert.True(t, ValidSpanID(v.SpanID))
			assert.NotEqual(t, tpSpanID, v.SpanID, "the consumer is a new hop")
			assert.Equal(t, v.SpanID, v.TransactionID)
			assert.Equal(t, tpSpanID, ParentSpanID(consumer))
			assert.Equal(t, "batch-7", v.CorrelationID)
			assert.Equal(t, "rojo=1,congo=2", v.TraceState)
			assert.Equal(t, "consumer-1", v.Worker, "values already in ctx are kept")
			assert.Empty(t, ParentSpanID(consumerBase))
		})
	}
}

func TestInjectMintsWithoutTrace(t *testing.T) {
	c := MapCarrier{}
	Inject(context.Background(), c)
	tp, err := ParseTraceparent(c[HeaderTraceparent])
	require.NoError(t, err)
	assert.Equal(t, tp.TraceID, c[HeaderCorrelationID])
	_, has := c[HeaderTracestate]
	assert.False(t, has)

	// A trace without a span ID gets one; an invalid stored correlation ID
	// is never written.
	c = MapCarrier{}
	Inject(With(context.Background(), Values{TraceID: tpTraceID, CorrelationID: "bad id\r\n"}), c)
	tp, err = ParseTraceparent(c[HeaderTraceparent])
	require.NoError(t, err)
	assert.Equal(t, tpTraceID, tp.TraceID)
	assert.True(t, ValidSpanID(tp.ParentID))
	assert.Equal(t, tpTraceID, c[HeaderCorrelationID])
}

func TestExtractValidates(t *testing.T) {
	tests := []struct {
		name       string
		carrier    Carrier
		wantCorr   string // "" = freshly minted
		freshTrace bool
	}{
		{"10 KB correlation ID", MapCarrier{HeaderCorrelationID: strings.Repeat("x", 10<<10), HeaderTraceparent: tpValid}, "", false},
		{"CR/LF correlation ID", MapCarrier{HeaderCorrelationID: "a\r\nb", HeaderTraceparent: tpValid}, "", false},
		{"uppercase hex traceparent", MapCarrier{HeaderTraceparent: strings.ToUpper(tpValid), HeaderCorrelationID: "ok"}, "ok", true},
		{"case-insensitive keys", MapCarrier{"TRACEPARENT": tpValid, "x-correlation-id": "ok"}, "ok", false},
		{"duplicate conflicting headers", HeaderCarrier(http.Header{"X-Correlation-Id": {"a", "b"}, "Traceparent": {tpValid}}), "", false},
		{"duplicate conflicting traceparent", HeaderCarrier(http.Header{"Traceparent": {tpValid, "00-" + tpTraceID + "-1111111111111111-01"}, "X-Correlation-Id": {"ok"}}), "ok", true},
		{"empty carrier", MapCarrier{}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := Extract(context.Background(), tc.carrier)
			v := From(ctx)
			assert.True(t, ValidID(v.CorrelationID))
			if tc.wantCorr != "" {
				assert.Equal(t, tc.wantCorr, v.CorrelationID)
			} else {
				for _, k := range tc.carrier.Keys() {
					assert.NotEqual(t, tc.carrier.Get(k), v.CorrelationID)
				}
			}
			assert.True(t, ValidTraceID(v.TraceID))
			if tc.freshTrace {
				assert.NotEqual(t, tpTraceID, v.TraceID)
				assert.Empty(t, ParentSpanID(ctx))
				if tc.wantCorr == "" {
					assert.Equal(t, v.TraceID, v.CorrelationID)
				}
			} else {
				assert.Equal(t, tpTraceID, v.TraceID)
				assert.Equal(t, tpSpanID, ParentSpanID(ctx))
			}
		})
	}
}

func TestCarrierAdapters(t *testing.T) {
	m := MapCarrier{"A": "1"}
	m.Set("b", "2")
	assert.Equal(t, "1", m.Get("a"))
	assert.Equal(t, "2", m.Get("b"))
	assert.Equal(t, "", m.Get("c"))
	keys := m.Keys()
	sort.Strings(keys)
	assert.Equal(t, []string{"A", "b"}, keys)

	h := HeaderCarrier(http.Header{})
	h.Set("traceparent", "x")
	assert.Equal(t, "x", h.Get("Traceparent"))
	assert.Equal(t, []string{"Traceparent"}, h.Keys())
	assert.Equal(t, []string{"x"}, h.Values("traceparent"))
	var _ ValuesGetter = h
}
