package logctx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	logctx "github.com/pipelog/pipelog/context"
)

func ExampleParseTraceparent() {
	tp, err := logctx.ParseTraceparent("00-4bf92f3577b34da6a3b4ce0ff5e1ff2e-00f067aa0ba902b7-01")
	fmt.Println(tp.TraceID, tp.ParentID, tp.Sampled(), err)

	_, err = logctx.ParseTraceparent("ff-4bf92f3577b34da6a3b4ce0ff5e1ff2e-00f067aa0ba902b7-01")
	fmt.Println(err)
	// Output:
	// 4bf92f3577b34da6a3b4ce0ff5e1ff2e 00f067aa0ba902b7 true <nil>
	// logctx: invalid traceparent: invalid version
}

// A producer stamps message headers; the consumer continues the trace.
func ExampleInject() {
	producer := logctx.With(context.Background(), logctx.Values{
		CorrelationID: "order-42",
		TraceID:       "4bf92f3577b34da6a3b4ce0ff5e1ff2e",
		SpanID:        "00f067aa0ba902b7",
		TraceFlags:    logctx.FlagSampled,
	})
	headers := logctx.MapCarrier{}
	logctx.Inject(producer, headers)
	fmt.Println(headers["traceparent"], headers["X-Correlation-ID"])

	consumer := logctx.Extract(context.Background(), headers)
	fmt.Println(logctx.TraceID(consumer), logctx.ParentSpanID(consumer), logctx.CorrelationID(consumer))
	// Output:
	// 00-4bf92f3577b34da6a3b4ce0ff5e1ff2e-00f067aa0ba902b7-01 order-42
	// 4bf92f3577b34da6a3b4ce0ff5e1ff2e 00f067aa0ba902b7 order-42
}

func ExampleMiddleware() {
	mw := logctx.Middleware(logctx.MiddlewareConfig{
		OnComplete: func(i logctx.RequestInfo) {
			fmt.Println(i.Method, i.Path, i.Status, i.Values.CorrelationID, i.InvalidHeaders)
		},
	})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Outgoing calls made with r.Context() through logctx.Transport
		// continue the same trace.
		w.WriteHeader(http.StatusNoContent)
	}))

	req := httptest.NewRequest(http.MethodGet, "/orders", nil)
	req.Header.Set("X-Correlation-ID", "order-42")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Header().Get("X-Correlation-ID"))
	// Output:
	// GET /orders 204 order-42 []
	// order-42
}
