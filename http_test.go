package pipelog

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	logctx "github.com/pipelog/pipelog/context"
)

func TestMiddlewareCompleted(t *testing.T) {
	log, mem := newJobLogger(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})
	var hookCalled bool
	srv := httptest.NewServer(log.Middleware(MiddlewareConfig{Base: logctx.MiddlewareConfig{
		OnComplete: func(logctx.RequestInfo) { hookCalled = true },
	}})(mux))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/orders/42?token=secret", nil)
	req.Header.Set("User-Agent", "test-agent/1.0")
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("X-Correlation-ID", strings.Repeat("x", 10<<10)) // hostile: replaced
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close() // waits for the handler (and the hook) to finish
	if !hookCalled {
		t.Error("user OnComplete not called")
	}
	lines := decodeLines(t, mem)
	if len(lines) != 1 {
		t.Fatalf("%d lines", len(lines))
	}
	ev := lines[0]
	for k, want := range map[string]any{
		"event.action":                       "HTTPRequestCompleted",
		"http.request.method":                "GET",
		"url.path":                           "/orders/42",
		"http.response.status_code":          float64(200),
		"http.response.body.bytes":           float64(5),
		"user_agent.original":                "test-agent/1.0",
		"client.ip":                          "127.0.0.1",
		"event.outcome":                      "success",
		"trace.id":                           "4bf92f3577b34da6a3ce929d0e0e4736",
		"Pipelog.HTTPRequestCompleted.route": "GET /orders/{id}",
		"Pipelog.HTTPRequestCompleted.parent_span_id": "00f067aa0ba902b7",
	} {
		if got := lineField(ev, k); got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	if strings.Contains(string(mem.Bytes()), "secret") || strings.Contains(string(mem.Bytes()), "xxxxxxxx") {
		t.Error("query string or hostile header logged")
	}
	if lineField(ev, "Pipelog.HTTPRequestCompleted.invalid_headers") == nil {
		t.Error("rejected header not reported")
	}
}

func TestMiddlewarePanic(t *testing.T) {
	log, mem := newJobLogger(t)
	h := log.Middleware(MiddlewareConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(42)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/boom", nil))
	if rec.Code != 500 {
		t.Errorf("status %d", rec.Code)
	}
	lines := decodeLines(t, mem)
	if len(lines) != 1 || lineAction(lines[0]) != "HTTPHandlerPanicked" {
		t.Fatalf("lines: %v", lines)
	}
	ev := lines[0]
	if lineField(ev, "error.message") != "panic: 42" || lineField(ev, "log.level") != "error" || lineField(ev, "http.response.status_code") != float64(500) {
		t.Errorf("event: %v", ev)
	}
	if st, _ := lineField(ev, "error.stack_trace").(string); !strings.Contains(st, "TestMiddlewarePanic") {
		t.Errorf("stack trace lacks the handler:\n%s", st)
	}
}

func TestMiddlewareSkipAndServerError(t *testing.T) {
	log, mem := newJobLogger(t)
	h := log.Middleware(MiddlewareConfig{Skip: func(i logctx.RequestInfo) bool { return i.Path == "/healthz" }})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/fail" {
				w.WriteHeader(503)
			}
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fail", nil))
	lines := decodeLines(t, mem)
	if len(lines) != 1 || lineField(lines[0], "url.path") != "/fail" || lineField(lines[0], "log.level") != "error" || lineField(lines[0], "event.outcome") != "failure" {
		t.Fatalf("lines: %v", lines)
	}
}

func TestTransportSpanParentage(t *testing.T) {
	log, mem := newJobLogger(t)
	srv := httptest.NewServer(log.Middleware(MiddlewareConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	ctx := logctx.StartTrace(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	resp, err := log.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	lines := decodeLines(t, mem)
	var server, client map[string]any
	for _, l := range lines {
		switch lineAction(l) {
		case "HTTPRequestCompleted":
			server = l
		case "HTTPClientRequestCompleted":
			client = l
		}
	}
	if server == nil || client == nil {
		t.Fatalf("lines: %v", lines)
	}
	if lineField(client, "trace.id") != logctx.TraceID(ctx) || lineField(server, "trace.id") != logctx.TraceID(ctx) {
		t.Errorf("trace ids: client %v server %v ctx %v", lineField(client, "trace.id"), lineField(server, "trace.id"), logctx.TraceID(ctx))
	}
	if lineField(server, "Pipelog.HTTPRequestCompleted.parent_span_id") != lineField(client, "span.id") {
		t.Errorf("server parent %v != client span %v", lineField(server, "Pipelog.HTTPRequestCompleted.parent_span_id"), lineField(client, "span.id"))
	}
	if lineField(client, "Pipelog.HTTPClientRequestCompleted.parent_span_id") != logctx.SpanID(ctx) {
		t.Errorf("client parent %v != caller span %v", lineField(client, "Pipelog.HTTPClientRequestCompleted.parent_span_id"), logctx.SpanID(ctx))
	}
	if lineField(client, "url.domain") != "127.0.0.1" || lineField(client, "http.response.status_code") != float64(200) {
		t.Errorf("client event: %v", client)
	}
}

func TestTransportError(t *testing.T) {
	log, mem := newJobLogger(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	req, _ := http.NewRequestWithContext(logctx.StartTrace(t.Context()), "GET", url+"/gone", nil)
	if _, err := log.HTTPClient().Do(req); err == nil {
		t.Fatal("no error from a closed server")
	}
	lines := decodeLines(t, mem)
	if len(lines) != 1 || lineAction(lines[0]) != "HTTPClientRequestCompleted" {
		t.Fatalf("lines: %v", lines)
	}
	ev := lines[0]
	if ev["log.level"] != "error" || lineField(ev, "event.outcome") != "failure" || lineField(ev, "error.message") == nil ||
		lineField(ev, "http.response.status_code") != nil {
		t.Errorf("event: %v", ev)
	}
}

// The correlation ID a response returns is the trace.id its events carry,
// whatever the request's headers were (issue 11 item 15: with a malformed
// X-Correlation-ID and no traceparent the two differed).
func TestMiddlewareCorrelationMatchesTrace(t *testing.T) {
	for name, headers := range map[string]map[string]string{
		"none":                     {},
		"malformed correlation ID": {"X-Correlation-ID": "bad id\twith tab"},
		"malformed request ID":     {"X-Request-ID": strings.Repeat("r", 10<<10)},
		"malformed traceparent":    {"traceparent": "00-zz-yy-01", "X-Correlation-ID": "é"},
	} {
		t.Run(name, func(t *testing.T) {
			log, mem := newJobLogger(t)
			srv := httptest.NewServer(log.Middleware(MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
			req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			srv.Close()
			lines := decodeLines(t, mem)
			if len(lines) != 1 {
				t.Fatalf("%d lines", len(lines))
			}
			if got, want := resp.Header.Get("X-Correlation-ID"), lineField(lines[0], "trace.id"); got != want {
				t.Errorf("response X-Correlation-ID %q, logged trace.id %v", got, want)
			}
		})
	}
}
