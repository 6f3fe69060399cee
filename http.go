package pipelog

import (
	"net/http"
	"time"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
)

// MiddlewareConfig configures Logger.Middleware. The zero value is fine.
type MiddlewareConfig struct {
	// Base configures the underlying logctx.Middleware (RepanicOnPanic,
	// TraceResponse, Route, ClientIP). Its OnComplete, when set, is still
	// called, after the event is written.
	Base logctx.MiddlewareConfig
	// Skip makes the middleware write no HTTPRequestCompleted event for
	// requests it returns true for (health checks, say). Panics are always
	// written.
	Skip func(logctx.RequestInfo) bool
}

// Middleware returns HTTP server middleware: logctx.Middleware (correlation
// and trace context for every request, see there) plus one typed event per
// request, written through l with the request's context:
//
//   - event.HTTPRequestCompleted: http.request.method, url.path,
//     http.response.status_code, http.response.body.bytes,
//     user_agent.original, client.ip, event.start, event.duration,
//     event.outcome ("failure" for 5xx, see event.HTTPOutcome), event.category ["web"],
//     event.type ["access"]; the route template, the remote parent span and
//     the names of rejected propagation headers as custom fields. Level
//     info, error from status 500.
//   - event.HTTPHandlerPanicked when the handler panicked (level error,
//     error.* with the panic value and the stack at the panic; warn for a
//     deliberate http.ErrAbortHandler). The middleware then answers 500,
//     or re-panics with logctx.MiddlewareConfig.RepanicOnPanic.
//
// The event's trace.id, span.id (this hop), transaction.id and
// http.request.id come from the request context.
func (l *Logger) Middleware(cfg MiddlewareConfig) func(http.Handler) http.Handler {
	mo := cfg.Base
	user := mo.OnComplete
	skip := cfg.Skip
	mo.OnComplete = func(info logctx.RequestInfo) {
		if info.Panic != nil {
			l.emitPanicked(&info)
		} else if skip == nil || !skip(info) {
			l.emitCompleted(&info)
		}
		if user != nil {
			user(info)
		}
	}
	return logctx.Middleware(mo)
}

func httpInfo(info *logctx.RequestInfo, typ string) event.HTTPInfo {
	hi := event.NewHTTPInfo(typ, info.Status)
	hi.Method = info.Method
	hi.Path = info.Path
	hi.BodyBytes = info.Bytes
	hi.UserAgent = info.UserAgent
	hi.ClientIP = info.ClientIP
	hi.Start = info.Start
	hi.Duration = info.Duration
	hi.Route = info.Route
	hi.ParentSpanID = info.ParentSpanID
	hi.InvalidHeaders = info.InvalidHeaders
	return hi
}

func (l *Logger) emitCompleted(info *logctx.RequestInfo) {
	b := event.Info("HTTP request completed")
	if info.Status >= 500 {
		b.Level = event.LevelError
	}
	b.StatusCode = info.Status
	Emit(info.Context, l, event.HTTPRequestCompleted{Base: b, HTTPInfo: httpInfo(info, "access")})
}

func (l *Logger) emitPanicked(info *logctx.RequestInfo) {
	b := event.Error("HTTP handler panicked")
	if info.Aborted {
		b = event.Warn("HTTP handler aborted the response")
	} else {
		b.Err = &event.PanicError{Value: info.Panic, Stack: string(info.Stack)}
	}
	b.StatusCode = info.Status
	Emit(info.Context, l, event.HTTPHandlerPanicked{Base: b, HTTPInfo: httpInfo(info, "error"), Aborted: info.Aborted})
}

// Transport returns an http.RoundTripper that propagates the request
// context's correlation and trace (logctx.Transport: same trace ID, a new
// span ID per outgoing request) and writes an event.HTTPClientRequestCompleted
// per request through l. That event's span.id is the span ID sent in
// traceparent, i.e. the parent the server will report, and its
// Pipelog.HTTPClientRequestCompleted.parent_span_id is the caller's span:
// so the chain caller → outgoing request → server hop can be followed in
// the logs. base is http.DefaultTransport when nil.
func (l *Logger) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return logctx.Transport(&clientLogger{l: l, base: base})
}

// HTTPClient returns an http.Client using l.Transport(nil).
func (l *Logger) HTTPClient() *http.Client { return &http.Client{Transport: l.Transport(nil)} }

// clientLogger sits under logctx.Transport, so it sees the request with
// its propagation headers set.
type clientLogger struct {
	l    *Logger
	base http.RoundTripper
}

func (c *clientLogger) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := c.base.RoundTrip(req)
	ctx := req.Context()
	parent := logctx.SpanID(ctx)
	if tp, perr := logctx.ParseTraceparent(req.Header.Get(logctx.HeaderTraceparent)); perr == nil {
		ctx = logctx.WithTrace(ctx, tp.TraceID, tp.ParentID)
	}
	status := 0
	var size int64
	if resp != nil {
		status = resp.StatusCode
		size = max(resp.ContentLength, 0)
	}
	hi := event.NewHTTPInfo("connection", status)
	hi.Method = req.Method
	hi.Path = req.URL.Path
	hi.Domain = req.URL.Hostname()
	hi.BodyBytes = size
	hi.Start = start
	hi.Duration = time.Since(start)
	hi.ParentSpanID = parent
	b := event.Info("HTTP client request completed").WithStatus(status)
	if err != nil {
		b = event.Error("HTTP client request failed").WithErr(err)
		hi.Outcome = event.OutcomeFailure
	} else if status >= 500 {
		b.Level = event.LevelWarn
	}
	Emit(ctx, c.l, event.HTTPClientRequestCompleted{Base: b, HTTPInfo: hi})
	return resp, err
}

// Unwrap returns the base RoundTripper.
func (c *clientLogger) Unwrap() http.RoundTripper { return c.base }
