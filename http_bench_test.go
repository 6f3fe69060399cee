package pipelog

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/sink"
)

// discardWriter is a reusable http.ResponseWriter, so the benchmark measures
// the middleware, not httptest.ResponseRecorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkMiddleware: per-request cost of a bare handler, of
// logctx.Middleware (IDs, headers, context) and of Logger.Middleware (plus
// one HTTPRequestCompleted event encoded and written to io.Discard).
func BenchmarkMiddleware(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	log, err := New(Config{Service: "bench", Sinks: []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", handler},
		{"logctx", logctx.Middleware(logctx.MiddlewareConfig{})(handler)},
		{"logging", log.Middleware(MiddlewareConfig{})(handler)},
	} {
		for _, incoming := range []bool{false, true} {
			name := bc.name + "/new-trace"
			if incoming {
				name = bc.name + "/traceparent"
			}
			b.Run(name, func(b *testing.B) {
				req := httptest.NewRequest("GET", "/orders/42", nil)
				req.Header.Set("User-Agent", "bench/1.0")
				if incoming {
					req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
					req.Header.Set("X-Correlation-ID", "order-42")
				}
				w := &discardWriter{h: make(http.Header, 4)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					bc.h.ServeHTTP(w, req)
				}
			})
		}
	}
}
