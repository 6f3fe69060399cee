package logctx

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// headerServer records the propagation headers of every request it gets.
type headerServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newHeaderServer(t *testing.T) *headerServer {
	hs := &headerServer{}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.mu.Lock()
		hs.seen = append(hs.seen, r.Header.Clone())
		hs.mu.Unlock()
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *headerServer) get(t *testing.T, ctx context.Context, client *http.Client) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL, nil)
	require.NoError(t, err)
	req.Header.Set("X-Caller", "kept")
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return req
}

func TestTransportNewSpanPerHopSameTrace(t *testing.T) {
	hs := newHeaderServer(t)
	client := &http.Client{Transport: Transport(nil)}
	ctx := With(context.Background(), Values{
		CorrelationID: "order-42", TraceID: tpTraceID, SpanID: tpSpanID,
		TraceFlags: FlagSampled | 0x80, TraceState: "rojo=1",
	})
	req1 := hs.get(t, ctx, client)
	hs.get(t, ctx, client)

	require.Len(t, hs.seen, 2)
	var spans []string
	for _, h := range hs.seen {
		tp, err := ParseTraceparent(h.Get(HeaderTraceparent))
		require.NoError(t, err)
		assert.Equal(t, uint8(0), tp.Version)
		assert.Equal(t, tpTraceID, tp.TraceID, "same trace ID")
		assert.NotEqual(t, tpSpanID, tp.ParentID, "a new span ID for the hop")
		assert.Equal(t, FlagSampled, tp.Flags, "reserved flags cleared")
		assert.Equal(t, "rojo=1", h.Get(HeaderTracestate))
		assert.Equal(t, "order-42", h.Get(HeaderCorrelationID))
		assert.Equal(t, "kept", h.Get("X-Caller"))
		spans = append(spans, tp.ParentID)
	}
	assert.NotEqual(t, spans[0], spans[1], "each request is its own hop")
	// The caller's request is untouched (RoundTripper contract).
	assert.Empty(t, req1.Header.Get(HeaderTraceparent))
	assert.Empty(t, req1.Header.Get(HeaderCorrelationID))
}

func TestTransportMintsWithoutContext(t *testing.T) {
	hs := newHeaderServer(t)
	client := &http.Client{Transport: Transport(http.DefaultTransport)}

	// Nothing in the context: a new trace; correlation ID = trace ID.
	hs.get(t, context.Background(), client)
	// A run ID in trace-id form becomes the trace ID.
	run := NewCorrelationID()
	hs.get(t, WithCorrelationID(context.Background(), run), client)
	// A caller-set traceparent/tracestate is replaced; stale tracestate removed.
	req, err := http.NewRequest(http.MethodGet, hs.URL, nil)
	require.NoError(t, err)
	req.Header.Set(HeaderTraceparent, "garbage")
	req.Header.Set(HeaderTracestate, "stale=1")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	require.Len(t, hs.seen, 3)
	tp0, err := ParseTraceparent(hs.seen[0].Get(HeaderTraceparent))
	require.NoError(t, err)
	assert.True(t, tp0.Sampled())
	assert.Equal(t, tp0.TraceID, hs.seen[0].Get(HeaderCorrelationID))
	assert.Empty(t, hs.seen[0].Get(HeaderTracestate))

	tp1, err := ParseTraceparent(hs.seen[1].Get(HeaderTraceparent))
	require.NoError(t, err)
	assert.Equal(t, run, tp1.TraceID)
	assert.Equal(t, run, hs.seen[1].Get(HeaderCorrelationID))

	tp2, err := ParseTraceparent(hs.seen[2].Get(HeaderTraceparent))
	require.NoError(t, err)
	assert.NotEqual(t, tp0.TraceID, tp2.TraceID)
	assert.Empty(t, hs.seen[2].Get(HeaderTracestate))
}

func TestTransportUsesOTelSpan(t *testing.T) {
	hs := newHeaderServer(t)
	client := &http.Client{Transport: Transport(nil)}
	sc := otelSpanContext(t, otelTraceA, "b7ad6b7169203331", true)
	ctx := trace.ContextWithSpanContext(WithCorrelationID(context.Background(), "c-9"), sc)
	hs.get(t, ctx, client)

	require.Len(t, hs.seen, 1)
	tp, err := ParseTraceparent(hs.seen[0].Get(HeaderTraceparent))
	require.NoError(t, err)
	assert.Equal(t, otelTraceA, tp.TraceID)
	assert.NotEqual(t, "b7ad6b7169203331", tp.ParentID)
	assert.True(t, tp.Sampled())
	assert.Equal(t, "otel=abc", hs.seen[0].Get(HeaderTracestate))
	assert.Equal(t, "c-9", hs.seen[0].Get(HeaderCorrelationID))
}

// TestServiceToService is A -> B on loopback: A's middleware, A's client
// Transport, B's middleware. B continues A's trace with A's outgoing span
// as its parent.
func TestServiceToService(t *testing.T) {
	type hopSeen struct {
		v      Values
		parent string
	}
	bSeen := make(chan hopSeen, 1)
	b := httptest.NewServer(Middleware(MiddlewareConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bSeen <- hopSeen{From(r.Context()), ParentSpanID(r.Context())}
	})))
	defer b.Close()

	var outgoing string
	spy := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		outgoing = r.Header.Get(HeaderTraceparent)
		return http.DefaultTransport.RoundTrip(r)
	})
	client := &http.Client{Transport: Transport(spy)}
	aSeen := make(chan Values, 1)
	a := httptest.NewServer(Middleware(MiddlewareConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		aSeen <- From(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, b.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
	})))
	defer a.Close()

	req, err := http.NewRequest(http.MethodGet, a.URL, nil)
	require.NoError(t, err)
	req.Header.Set(HeaderCorrelationID, "journey-1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	av, bv := <-aSeen, <-bSeen
	tp, err := ParseTraceparent(outgoing)
	require.NoError(t, err)
	assert.Equal(t, av.TraceID, bv.v.TraceID, "one trace")
	assert.Equal(t, "journey-1", av.CorrelationID)
	assert.Equal(t, "journey-1", bv.v.CorrelationID)
	assert.Equal(t, tp.ParentID, bv.parent, "B's parent is A's outgoing span")
	assert.NotEqual(t, av.SpanID, tp.ParentID, "the outgoing call is a new span")
	assert.NotEqual(t, tp.ParentID, bv.v.SpanID, "B has its own span")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
