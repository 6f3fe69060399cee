package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/internal/conformance"
)

const brokerAddr = "127.0.0.1:5672"

// requireBroker skips the test when RabbitMQ is not reachable, except in CI
// (CI=true), where a missing broker is a failure: .ci/rabbitmq.sh starts it.
func requireBroker(t *testing.T) string {
	t.Helper()
	url := envOr("AMQP_URL", "amqp://guest:guest@"+brokerAddr+"/")
	c, err := net.DialTimeout("tcp", brokerAddr, 2*time.Second)
	if err == nil {
		c.Close()
		return url
	}
	msg := "RabbitMQ is not reachable on " + brokerAddr + " (" + err.Error() + "); start it with .ci/rabbitmq.sh"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

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

func TestCorrelationThroughRabbitMQ(t *testing.T) {
	url := requireBroker(t)
	var out syncBuffer
	const n = 5
	code, err := run(config{url: url, queue: "pipelog-test-" + randomHex(8), n: n, timeout: 30 * time.Second}, &out)
	if err != nil || code != 0 {
		t.Fatalf("run: exit %d, %v\n%s", code, err, out.Bytes())
	}
	checkCorrelation(t, out.Bytes(), n)
}

// checkCorrelation checks the producer's and consumer's events of one run
// of n messages: one trace (the run ID) on both sides, each consumed
// message's parent span the span of its publication.
func checkCorrelation(t *testing.T, logs []byte, n int) {
	t.Helper()
	conformance.RequireConformant(t, logs)

	var started line
	published := map[string]line{} // message ID → event
	consumed := map[string]line{}
	for l := range bytes.Lines(logs) {
		var m line
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		switch m.Get("event.action") {
		case "JobStarted":
			started = m
		case "OrderPublished":
			published[m.Get("Pipelog.OrderPublished.message_id").(string)] = m
		case "OrderConsumed":
			consumed[m.Get("Pipelog.OrderConsumed.message_id").(string)] = m
		}
	}
	if started == nil || len(published) != n || len(consumed) != n {
		t.Fatalf("started %v, %d published, %d consumed\n%s", started != nil, len(published), len(consumed), logs)
	}
	runID, _ := started.Get("Pipelog.JobStarted.run_id").(string)
	if !logctx.ValidTraceID(runID) || started.Get("trace.id") != runID {
		t.Fatalf("run ID %q, trace.id %v", runID, started.Get("trace.id"))
	}
	for id, c := range consumed {
		p := published[id]
		if p == nil {
			t.Errorf("%s consumed but not published", id)
			continue
		}
		if c.Get("service.name") != "order-consumer" || p.Get("service.name") != "order-producer" {
			t.Errorf("%s: services %v / %v", id, p.Get("service.name"), c.Get("service.name"))
		}
		// The producer's run ID is the trace ID (and correlation ID) on both sides.
		if c.Get("trace.id") != runID || p.Get("trace.id") != runID {
			t.Errorf("%s: trace.id producer %v consumer %v, want run ID %s", id, p.Get("trace.id"), c.Get("trace.id"), runID)
		}
		if c.Get("labels.correlation_id") != nil || p.Get("labels.correlation_id") != nil {
			t.Errorf("%s: correlation ID differs from the trace ID", id)
		}
		// The consumer's parent span is the message's publish span.
		if c.Get("Pipelog.OrderConsumed.parent_span_id") != p.Get("span.id") {
			t.Errorf("%s: consumer parent %v, publish span %v", id, c.Get("Pipelog.OrderConsumed.parent_span_id"), p.Get("span.id"))
		}
		if c.Get("span.id") == p.Get("span.id") || c.Get("span.id") == nil {
			t.Errorf("%s: consumer span %v", id, c.Get("span.id"))
		}
		if p.Get("Pipelog.OrderPublished.parent_span_id") != started.Get("span.id") {
			t.Errorf("%s: publish span's parent %v, want the run's span %v", id, p.Get("Pipelog.OrderPublished.parent_span_id"), started.Get("span.id"))
		}
		if c.Get("process.thread.name") != "consumer-1" {
			t.Errorf("%s: worker %v", id, c.Get("process.thread.name"))
		}
	}
}

func TestTableCarrier(t *testing.T) {
	h := amqp.Table{}
	ctx := logctx.StartTrace(t.Context())
	logctx.Inject(ctx, TableCarrier(h))
	if _, ok := h[logctx.HeaderTraceparent].(string); !ok {
		t.Fatalf("headers: %v", h)
	}
	// Byte-array values (some clients send those) are read too.
	h[logctx.HeaderTraceparent] = []byte(h[logctx.HeaderTraceparent].(string))
	got := logctx.Extract(t.Context(), TableCarrier(h))
	if logctx.TraceID(got) != logctx.TraceID(ctx) || logctx.ParentSpanID(got) != logctx.SpanID(ctx) {
		t.Errorf("extracted trace %s parent %s, want %s %s", logctx.TraceID(got), logctx.ParentSpanID(got), logctx.TraceID(ctx), logctx.SpanID(ctx))
	}
	// A hostile correlation header is not carried over.
	h[logctx.HeaderCorrelationID] = "bad\r\nvalue"
	h["x-other"] = int32(7)
	got = logctx.Extract(t.Context(), TableCarrier(h))
	if c := logctx.CorrelationID(got); strings.ContainsAny(c, "\r\n") || c == "" {
		t.Errorf("correlation %q", c)
	}
	if TableCarrier(h).Get("x-other") != "" || len(TableCarrier(h).Keys()) != len(h) {
		t.Error("non-string values must read as empty")
	}
}
