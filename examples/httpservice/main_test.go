package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/internal/conformance"
)

// syncBuffer is a bytes.Buffer safe for the sink's flusher goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

type line = conformance.Line

func TestTracePropagatesAToB(t *testing.T) {
	var out syncBuffer
	s, err := start(&out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := get(ctx, s.AURL+"/orders/42")
	if err != nil || !strings.HasPrefix(res, `200 {"available":`) {
		t.Fatalf("response %q, %v", res, err)
	}
	if err := s.stop(ctx); err != nil {
		t.Fatal(err)
	}
	logs := out.Bytes()
	conformance.RequireConformant(t, logs)

	ev := map[string]line{} // "<service>/<action>" → event
	for l := range bytes.Lines(logs) {
		var m line
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		key := m.Get("service.name").(string) + "/" + m.Get("event.action").(string)
		if _, dup := ev[key]; dup {
			t.Fatalf("two %s events", key)
		}
		ev[key] = m
	}
	aSrv, aCli, aOwn := ev["orders-api/HTTPRequestCompleted"], ev["orders-api/HTTPClientRequestCompleted"], ev["orders-api/OrderPriced"]
	bSrv, bOwn := ev["inventory/HTTPRequestCompleted"], ev["inventory/StockChecked"]
	if aSrv == nil || aCli == nil || aOwn == nil || bSrv == nil || bOwn == nil || len(ev) != 5 {
		t.Fatalf("events: %v", ev)
	}

	// One trace across both services.
	trace, _ := aSrv.Get("trace.id").(string)
	if !logctx.ValidTraceID(trace) {
		t.Fatalf("trace.id %q", trace)
	}
	for k, l := range ev {
		if l.Get("trace.id") != trace {
			t.Errorf("%s: trace.id %v, want %s", k, l.Get("trace.id"), trace)
		}
		// A's trace started at A, so its correlation ID is the trace ID
		// and travels to B unchanged (no labels.correlation_id anywhere).
		if l.Get("labels.correlation_id") != nil {
			t.Errorf("%s: correlation differs from trace: %v", k, l.Get("labels.correlation_id"))
		}
	}

	// Span parentage: A's hop → A's outgoing request → B's hop.
	aSpan, cliSpan, bSpan := aSrv.Get("span.id"), aCli.Get("span.id"), bSrv.Get("span.id")
	if aSpan == nil || cliSpan == nil || bSpan == nil || aSpan == cliSpan || cliSpan == bSpan || aSpan == bSpan {
		t.Fatalf("spans A %v client %v B %v", aSpan, cliSpan, bSpan)
	}
	if got := aCli.Get("Pipelog.HTTPClientRequestCompleted.parent_span_id"); got != aSpan {
		t.Errorf("client span's parent %v, want A's span %v", got, aSpan)
	}
	if got := bSrv.Get("Pipelog.HTTPRequestCompleted.parent_span_id"); got != cliSpan {
		t.Errorf("B's parent %v, want A's outgoing span %v", got, cliSpan)
	}
	if aSrv.Get("Pipelog.HTTPRequestCompleted.parent_span_id") != nil {
		t.Errorf("A had no incoming trace, yet has a parent: %v", aSrv.Get("Pipelog.HTTPRequestCompleted.parent_span_id"))
	}
	// Each service's own events carry its hop's span.
	if aOwn.Get("span.id") != aSpan || bOwn.Get("span.id") != bSpan {
		t.Errorf("own events: A %v (want %v), B %v (want %v)", aOwn.Get("span.id"), aSpan, bOwn.Get("span.id"), bSpan)
	}
	// The client event's transaction is A's (the span belongs to A's transaction).
	if aCli.Get("transaction.id") != aSrv.Get("transaction.id") {
		t.Errorf("client transaction %v, A transaction %v", aCli.Get("transaction.id"), aSrv.Get("transaction.id"))
	}
	if bSrv.Get("url.path") != "/stock/sku-42" || aCli.Get("url.path") != "/stock/sku-42" || aCli.Get("url.domain") != "127.0.0.1" {
		t.Errorf("paths: B %v client %v", bSrv.Get("url.path"), aCli.Get("url.path"))
	}
}
