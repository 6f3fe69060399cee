package logkafka_test

import (
	"context"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/context/logkafka"
)

const (
	traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	spanID  = "00f067aa0ba902b7"
)

func TestInjectExtractRoundTrip(t *testing.T) {
	ctx := logctx.WithTrace(context.Background(), traceID, spanID)
	ctx = logctx.WithCorrelationID(ctx, "run-42")
	r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: "other", Value: []byte("kept")}}}
	logkafka.Inject(ctx, r)
	c := logkafka.Carrier{Record: r}
	if got := c.Get(logctx.HeaderTraceparent); got != "00-"+traceID+"-"+spanID+"-00" && got != "00-"+traceID+"-"+spanID+"-01" {
		t.Errorf("traceparent %q", got)
	}
	if got := c.Get(logctx.HeaderCorrelationID); got != "run-42" {
		t.Errorf("correlation %q", got)
	}
	if c.Get("other") != "kept" {
		t.Error("an unrelated header was lost")
	}

	out := logkafka.Extract(context.Background(), r)
	if logctx.TraceID(out) != traceID || logctx.ParentSpanID(out) != spanID || logctx.CorrelationID(out) != "run-42" {
		t.Errorf("extracted trace %q parent %q correlation %q", logctx.TraceID(out), logctx.ParentSpanID(out), logctx.CorrelationID(out))
	}
	if s := logctx.SpanID(out); s == spanID || len(s) != 16 {
		t.Errorf("the consumer's hop has span %q, want a new one", s)
	}

	// Injecting again replaces, never duplicates.
	logkafka.Inject(ctx, r)
	if n := len(c.Values(logctx.HeaderTraceparent)); n != 1 {
		t.Errorf("%d traceparent headers after two Injects", n)
	}
}

func TestExtractRefusesConflictingDuplicates(t *testing.T) {
	r := &kgo.Record{Headers: []kgo.RecordHeader{
		{Key: "traceparent", Value: []byte("00-" + traceID + "-" + spanID + "-01")},
		{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
	}}
	out := logkafka.Extract(context.Background(), r)
	if id := logctx.TraceID(out); id == traceID || id == "0af7651916cd43dd8448eb211c80319c" || len(id) != 32 {
		t.Errorf("conflicting traceparents continued trace %q", id)
	}
	if logctx.ParentSpanID(out) != "" {
		t.Errorf("parent %q from a refused header", logctx.ParentSpanID(out))
	}
}

func TestCarrierMatching(t *testing.T) {
	r := &kgo.Record{Headers: []kgo.RecordHeader{
		{Key: "x-correlation-id", Value: []byte("folded")},
		{Key: "a", Value: []byte("1")},
		{Key: "a", Value: []byte("2")},
	}}
	c := logkafka.Carrier{Record: r}
	if c.Get("X-Correlation-ID") != "folded" || c.Get("a") != "2" || c.Get("missing") != "" {
		t.Errorf("Get: %q %q", c.Get("X-Correlation-ID"), c.Get("a"))
	}
	if v := c.Values("a"); !slices.Equal(v, []string{"1", "2"}) {
		t.Errorf("Values: %q", v)
	}
	if k := c.Keys(); !slices.Equal(k, []string{"x-correlation-id", "a"}) {
		t.Errorf("Keys: %q", k)
	}
	c.Set("a", "3")
	if v := c.Values("a"); !slices.Equal(v, []string{"3"}) || len(r.Headers) != 2 {
		t.Errorf("Set: %q, %d headers", v, len(r.Headers))
	}
	var nilC logkafka.Carrier
	nilC.Set("a", "b")
	if nilC.Get("a") != "" || nilC.Keys() != nil || nilC.Values("a") != nil {
		t.Error("a carrier without a record is not empty")
	}
}
