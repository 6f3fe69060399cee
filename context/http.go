package logctx

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"time"
	"unicode/utf8"
)

// MiddlewareConfig configures Middleware. The zero value is usable.
type MiddlewareConfig struct {
	// OnComplete, when set, is called once per request after the handler
	// returns (or panics), before a recovered panic is re-raised. The root
	// pipelog package turns it into a typed request-completed event. It
	// runs on the request goroutine: keep it quick.
	OnComplete func(RequestInfo)

	// RepanicOnPanic: after a handler panic has been reported, re-panic with
	// the original value (net/http then aborts the connection) instead of
	// answering 500. http.ErrAbortHandler is always re-panicked.
	RepanicOnPanic bool

	// TraceResponse also sets the W3C Trace Context Level 2 "traceresponse"
	// response header (00-<trace-id>-<this hop's span-id>-<flags>). The
	// X-Correlation-ID response header is always set.
	TraceResponse bool

	// Route returns the route template of r (e.g. "GET /users/{id}") after
	// the handler ran. Default: r.Pattern, which http.ServeMux sets.
	Route func(r *http.Request) string

	// ClientIP returns the client address for RequestInfo.ClientIP. Default:
	// the host part of r.RemoteAddr. Forwarded headers are not trusted
	// unless you supply a function that does so for your proxies.
	ClientIP func(r *http.Request) string
}

// RequestInfo describes one completed request, for MiddlewareConfig.OnComplete.
type RequestInfo struct {
	// Context is the request context the handler saw: From(Context) gives
	// the correlation and trace values.
	Context context.Context

	Method    string
	Path      string // r.URL.Path
	Route     string // route template, "" when unknown
	Status    int    // response status; 200 when the handler wrote nothing; 500 after a recovered panic with nothing written
	Bytes     int64  // response body bytes written
	Start     time.Time
	Duration  time.Duration
	UserAgent string // User-Agent, cut to MaxUserAgentLen bytes
	ClientIP  string

	Values       Values // From(Context): correlation ID, trace/span/transaction IDs, request ID, ...
	ParentSpanID string // parent-id of the incoming traceparent, "" when the trace started here

	// InvalidHeaders names the propagation headers that were present but
	// rejected (malformed, hostile, conflicting duplicates) and replaced by
	// minted values. Their content is never kept.
	InvalidHeaders []string

	Hijacked bool // the handler hijacked the connection; Status and Bytes are then what was seen before

	// Panic is the value a handler panicked with (nil if none) and Stack the
	// goroutine stack at the panic. Aborted reports a panic with
	// http.ErrAbortHandler (a deliberate abort: Stack is nil).
	Panic   any
	Stack   []byte
	Aborted bool
}

// MaxUserAgentLen caps RequestInfo.UserAgent.
const MaxUserAgentLen = 1024

// Middleware returns HTTP server middleware that gives every request its
// correlation and trace values:
//
//   - traceparent (W3C): a valid one is continued with a new span ID for this
//     hop, its parent-id kept as ParentSpanID; a missing or invalid one
//     starts a new trace (flags: sampled). tracestate is passed through
//     (sanitised) only with a valid traceparent.
//   - X-Correlation-ID, else X-Request-ID, else the trace ID becomes the
//     correlation ID; a valid X-Request-ID is also the request ID
//     (http.request.id). An ID is valid when it has 1–128 characters from
//     [A-Za-z0-9._:-]; a malformed or hostile one (CR/LF, 10 KB, spaces,
//     conflicting duplicate headers) is replaced by the trace ID, as a
//     missing one is, and is never echoed or kept: the response's
//     X-Correlation-ID is then the trace.id every event of the request has.
//   - transaction.id is this hop's span ID.
//
// Response headers: X-Correlation-ID always (set before the handler runs,
// so it is there even if the handler writes early); X-Request-ID echoed
// when the request carried a valid one; traceresponse only with
// opts.TraceResponse. traceparent is a request header and is never set on
// responses.
//
// Rejected headers are also replaced in the request the handler sees (on a
// copy of the header map), so nothing behind the middleware can log them raw.
//
// Values already in the request context (worker, labels) are kept.
func Middleware(opts MiddlewareConfig) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return &middleware{opts: opts, next: next}
	}
}

type requestState struct {
	hop hop
	rw  responseWriter
	hdr [3]string
}

type middleware struct {
	opts MiddlewareConfig
	next http.Handler
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	parent := r.Context()
	// One allocation for the per-request state: context values, response
	// writer wrapper and the backing arrays of the response header values.
	st := &requestState{hop: hop{v: stored(parent)}}
	h := &st.hop
	extract(headerSource(r.Header), h)

	hdr := w.Header()
	st.hdr[0] = h.v.CorrelationID
	hdr[canonCorrelationID] = st.hdr[0:1:1]
	if h.v.RequestID != "" {
		st.hdr[1] = h.v.RequestID
		hdr[canonRequestID] = st.hdr[1:2:2]
	}
	if m.opts.TraceResponse {
		st.hdr[2] = FormatTraceparent(h.v.TraceID, h.v.SpanID, h.v.TraceFlags)
		hdr[canonTraceresponse] = st.hdr[2:3:3]
	}

	ctx := h.attach(parent)
	r2 := r.WithContext(ctx)
	if h.rejected != 0 {
		r2.Header = scrubHeaders(r.Header, h)
	}
	rw := &st.rw
	rw.w = w

	if m.opts.OnComplete == nil {
		if !m.opts.RepanicOnPanic {
			defer m.recoverOnly(rw)
		}
		m.next.ServeHTTP(rw, r2)
		return
	}
	defer m.finish(rw, r2, h, start)
	m.next.ServeHTTP(rw, r2)
}

// scrubHeaders returns a copy of the request headers in which every
// rejected propagation header is replaced by the value that replaced it (or
// removed), so code behind the middleware never sees the hostile original.
func scrubHeaders(in http.Header, h *hop) http.Header {
	out := in.Clone()
	if h.rejected&rejectedTraceparent != 0 {
		out[canonTraceparent] = []string{FormatTraceparent(h.v.TraceID, h.v.SpanID, h.v.TraceFlags)}
		delete(out, canonTracestate)
	}
	if h.rejected&rejectedTracestate != 0 {
		delete(out, canonTracestate)
	}
	if h.rejected&rejectedCorrelationID != 0 {
		out[canonCorrelationID] = []string{h.v.CorrelationID}
	}
	if h.rejected&rejectedRequestID != 0 {
		delete(out, canonRequestID)
	}
	return out
}

// recoverOnly handles a panic when there is no hook and 500 is wanted.
func (m *middleware) recoverOnly(rw *responseWriter) {
	p := recover()
	if p == nil {
		return
	}
	m.afterPanic(rw, p)
}

func (m *middleware) afterPanic(rw *responseWriter, p any) {
	if p == http.ErrAbortHandler || m.opts.RepanicOnPanic {
		panic(p)
	}
	if rw.wroteHeader || rw.hijacked {
		// Too late for a 500: the client already has a status. Abort the
		// response (net/http closes the connection without logging) so a
		// truncated body is not mistaken for a complete one.
		panic(http.ErrAbortHandler)
	}
	writeInternalError(rw)
}

func writeInternalError(rw *responseWriter) {
	hdr := rw.w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Content-Disposition"} {
		delete(hdr, k)
	}
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(rw, "Internal Server Error\n")
}

func (m *middleware) finish(rw *responseWriter, r *http.Request, h *hop, start time.Time) {
	p := recover()
	info := RequestInfo{
		Context:        r.Context(),
		Method:         r.Method,
		Path:           r.URL.Path,
		Start:          start,
		UserAgent:      cutUTF8(r.UserAgent(), MaxUserAgentLen),
		Values:         From(r.Context()),
		ParentSpanID:   h.parent,
		InvalidHeaders: h.rejected.names(),
		Hijacked:       rw.hijacked,
	}
	if m.opts.Route != nil {
		info.Route = m.opts.Route(r)
	} else {
		info.Route = r.Pattern
	}
	if m.opts.ClientIP != nil {
		info.ClientIP = m.opts.ClientIP(r)
	} else {
		info.ClientIP = remoteIP(r.RemoteAddr)
	}
	late := false // the panic came after the status had gone out
	if p != nil {
		info.Panic = p
		if p == http.ErrAbortHandler {
			info.Aborted = true
		} else {
			info.Stack = debug.Stack()
			late = rw.wroteHeader || rw.hijacked
			if !m.opts.RepanicOnPanic && !late {
				writeInternalError(rw)
			}
		}
	}
	info.Status = rw.status
	if info.Status == 0 {
		if p != nil {
			info.Status = http.StatusInternalServerError
		} else if !rw.hijacked {
			info.Status = http.StatusOK
		}
	}
	info.Bytes = rw.bytes
	info.Duration = time.Since(start)
	m.opts.OnComplete(info)
	if p != nil {
		if p == http.ErrAbortHandler || m.opts.RepanicOnPanic {
			panic(p)
		}
		if late {
			panic(http.ErrAbortHandler) // see afterPanic
		}
	}
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// responseWriter records status and size. It exposes the wrapped writer via
// Unwrap, so http.ResponseController reaches every optional interface of
// the original, and it implements http.Flusher, http.Hijacker and
// io.ReaderFrom itself for code that type-asserts.
type responseWriter struct {
	w           http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	if rw.wroteHeader || rw.hijacked {
		rw.w.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code) // informational (103 Early Hints): not final
		return
	}
	rw.status = code
	rw.wroteHeader = true
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.status, rw.wroteHeader = http.StatusOK, true
	}
	n, err := rw.w.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped ResponseWriter (for http.ResponseController).
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// Flush implements http.Flusher; it is a no-op when the underlying writer
// cannot flush.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError flushes and reports failure (http.ResponseController prefers
// it to Flush); it returns http.ErrNotSupported when the underlying writer
// cannot flush.
func (rw *responseWriter) FlushError() error {
	if !rw.wroteHeader {
		rw.status, rw.wroteHeader = http.StatusOK, true
	}
	return http.NewResponseController(rw.w).Flush()
}

// Hijack implements http.Hijacker; it returns http.ErrNotSupported when the
// underlying writer cannot hijack.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.hijacked = true
	}
	return c, brw, err
}

// ReadFrom implements io.ReaderFrom, keeping the sendfile/splice fast path
// of the underlying writer when it has one.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.wroteHeader {
		rw.status, rw.wroteHeader = http.StatusOK, true
	}
	var n int64
	var err error
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{rw.w}, src)
	}
	rw.bytes += n
	return n, err
}

type writerOnly struct{ io.Writer }
