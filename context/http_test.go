package logctx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/event"
)

// captured is what a test handler saw.
type captured struct {
	values Values
	parent string
}

func captureHandler(out *captured) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out.values = From(r.Context())
		out.parent = ParentSpanID(r.Context())
		_, _ = io.WriteString(w, "ok")
	})
}

// serve runs one request through the middleware in-process.
func serve(t *testing.T, opts MiddlewareConfig, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	Middleware(opts)(h).ServeHTTP(rec, req)
	return rec
}

func TestMiddlewareMintsWhenAbsent(t *testing.T) {
	var got captured
	var info RequestInfo
	rec := serve(t, MiddlewareConfig{OnComplete: func(i RequestInfo) { info = i }}, captureHandler(&got),
		httptest.NewRequest(http.MethodGet, "/x", nil))

	v := got.values
	require.True(t, ValidTraceID(v.TraceID), v.TraceID)
	require.True(t, ValidSpanID(v.SpanID), v.SpanID)
	assert.Equal(t, v.TraceID, v.CorrelationID, "minted correlation ID is the trace ID")
	assert.Equal(t, v.SpanID, v.TransactionID)
	assert.Equal(t, FlagSampled, v.TraceFlags)
	assert.Empty(t, got.parent)
	assert.Empty(t, v.RequestID)
	assert.Equal(t, v.CorrelationID, rec.Header().Get(HeaderCorrelationID))
	assert.Empty(t, rec.Header().Get(HeaderTraceparent), "traceparent is never set on responses")
	assert.Empty(t, rec.Header().Get(HeaderTraceresponse))
	assert.Empty(t, info.InvalidHeaders)
	assert.Equal(t, v, info.Values)

	// Two requests never share minted IDs.
	var got2 captured
	serve(t, MiddlewareConfig{}, captureHandler(&got2), httptest.NewRequest(http.MethodGet, "/x", nil))
	assert.NotEqual(t, v.TraceID, got2.values.TraceID)
}

func TestMiddlewarePropagates(t *testing.T) {
	var got captured
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set(HeaderTraceparent, tpValid)
	req.Header.Set(HeaderTracestate, "rojo=00f067aa0ba902b7")
	req.Header.Set(HeaderCorrelationID, "order-42")
	req.Header.Set(HeaderRequestID, "req.7")
	rec := serve(t, MiddlewareConfig{TraceResponse: true}, captureHandler(&got), req)

	v := got.values
	assert.Equal(t, tpTraceID, v.TraceID, "same trace")
	assert.True(t, ValidSpanID(v.SpanID))
	assert.NotEqual(t, tpSpanID, v.SpanID, "new span for this hop")
	assert.Equal(t, tpSpanID, got.parent, "incoming parent kept")
	assert.Equal(t, "rojo=00f067aa0ba902b7", v.TraceState)
	assert.Equal(t, FlagSampled, v.TraceFlags)
	assert.Equal(t, "order-42", v.CorrelationID)
	assert.Equal(t, "req.7", v.RequestID)
	assert.Equal(t, "order-42", rec.Header().Get(HeaderCorrelationID))
	assert.Equal(t, "req.7", rec.Header().Get(HeaderRequestID))
	assert.Equal(t, FormatTraceparent(tpTraceID, v.SpanID, FlagSampled), rec.Header().Get(HeaderTraceresponse))
}

func TestMiddlewareHeaderPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		headers  map[string][]string
		wantCorr string // "" = a fresh minted ID (valid, not the trace ID)
		wantTID  bool   // correlation ID = trace ID
		wantReq  string
		invalid  []string
	}{
		{name: "traceparent only: correlation is its trace ID", headers: map[string][]string{"Traceparent": {tpValid}}, wantCorr: tpTraceID},
		{name: "X-Request-ID fallback", headers: map[string][]string{"X-Request-Id": {"abc-1"}}, wantCorr: "abc-1", wantReq: "abc-1"},
		{name: "X-Correlation-ID wins over X-Request-ID", headers: map[string][]string{"X-Request-Id": {"abc-1"}, "X-Correlation-Id": {"cor-1"}}, wantCorr: "cor-1", wantReq: "abc-1"},
		{name: "duplicate identical headers accepted", headers: map[string][]string{"X-Correlation-Id": {"same", "same"}}, wantCorr: "same"},
		{name: "nothing: trace ID", headers: nil, wantTID: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, vs := range tc.headers {
				req.Header[k] = vs
			}
			var got captured
			var info RequestInfo
			serve(t, MiddlewareConfig{OnComplete: func(i RequestInfo) { info = i }}, captureHandler(&got), req)
			if tc.wantTID {
				assert.Equal(t, got.values.TraceID, got.values.CorrelationID)
			} else {
				assert.Equal(t, tc.wantCorr, got.values.CorrelationID)
			}
			assert.Equal(t, tc.wantReq, got.values.RequestID)
			assert.Empty(t, info.InvalidHeaders)
		})
	}
}

func TestMiddlewareRejectsHostileHeaders(t *testing.T) {
	huge := strings.Repeat("A", 10<<10)
	tests := []struct {
		name    string
		headers map[string][]string
		invalid []string
		// whether the incoming trace must have been replaced
		freshTrace bool
	}{
		{name: "10 KB correlation header", headers: map[string][]string{"X-Correlation-Id": {huge}}, invalid: []string{HeaderCorrelationID}},
		{name: "correlation header with CR/LF", headers: map[string][]string{"X-Correlation-Id": {"abc\r\nSet-Cookie: session=evil"}}, invalid: []string{HeaderCorrelationID}},
		{name: "correlation header with LF only", headers: map[string][]string{"X-Correlation-Id": {"abc\nx"}}, invalid: []string{HeaderCorrelationID}},
		{name: "correlation header with spaces and quotes", headers: map[string][]string{"X-Correlation-Id": {`a" b`}}, invalid: []string{HeaderCorrelationID}},
		{name: "correlation header with log4j-style payload", headers: map[string][]string{"X-Correlation-Id": {"${jndi:ldap://x/y}"}}, invalid: []string{HeaderCorrelationID}},
		{name: "duplicate conflicting correlation headers", headers: map[string][]string{"X-Correlation-Id": {"one", "two"}}, invalid: []string{HeaderCorrelationID}},
		{name: "merged duplicate (comma)", headers: map[string][]string{"X-Correlation-Id": {"one, two"}}, invalid: []string{HeaderCorrelationID}},
		{name: "invalid X-Request-ID", headers: map[string][]string{"X-Request-Id": {huge}}, invalid: []string{HeaderRequestID}},
		{name: "malformed traceparent", headers: map[string][]string{"Traceparent": {"00-" + tpTraceID + "-" + tpSpanID}}, invalid: []string{HeaderTraceparent}, freshTrace: true},
		{name: "version ff traceparent", headers: map[string][]string{"Traceparent": {"ff" + tpValid[2:]}}, invalid: []string{HeaderTraceparent}, freshTrace: true},
		{name: "all-zero trace-id", headers: map[string][]string{"Traceparent": {"00-" + strings.Repeat("0", 32) + "-" + tpSpanID + "-01"}}, invalid: []string{HeaderTraceparent}, freshTrace: true},
		{name: "10 KB traceparent", headers: map[string][]string{"Traceparent": {huge}}, invalid: []string{HeaderTraceparent}, freshTrace: true},
		{name: "duplicate conflicting traceparent", headers: map[string][]string{"Traceparent": {tpValid, "00-" + tpTraceID + "-" + strings.Repeat("1", 16) + "-01"}}, invalid: []string{HeaderTraceparent}, freshTrace: true},
		{name: "tracestate with CR/LF dropped", headers: map[string][]string{"Traceparent": {tpValid}, "Tracestate": {"a=b\r\nX: y"}}, invalid: []string{HeaderTracestate}},
		{name: "everything hostile", headers: map[string][]string{"Traceparent": {"x"}, "X-Correlation-Id": {huge}, "X-Request-Id": {"a\r\nb"}},
			invalid: []string{HeaderTraceparent, HeaderCorrelationID, HeaderRequestID}, freshTrace: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, vs := range tc.headers {
				req.Header[k] = vs
			}
			var got captured
			var info RequestInfo
			var seenHeader http.Header
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seenHeader = r.Header
				captureHandler(&got).ServeHTTP(w, r)
			})
			rec := serve(t, MiddlewareConfig{OnComplete: func(i RequestInfo) { info = i }}, h, req)
			v := got.values

			assert.ElementsMatch(t, tc.invalid, info.InvalidHeaders)
			assert.True(t, ValidID(v.CorrelationID), "correlation ID replaced by a valid one")
			assert.True(t, ValidTraceID(v.TraceID))
			assert.True(t, ValidSpanID(v.SpanID))
			if tc.freshTrace {
				assert.NotEqual(t, tpTraceID, v.TraceID)
				assert.Empty(t, got.parent)
				assert.Empty(t, v.TraceState)
			}
			// Nothing hostile is echoed or kept.
			respCorr := rec.Header().Get(HeaderCorrelationID)
			assert.Equal(t, v.CorrelationID, respCorr)
			for _, vs := range tc.headers {
				for _, raw := range vs {
					if raw == tpValid {
						continue
					}
					for _, kept := range []string{v.CorrelationID, v.RequestID, v.TraceState, respCorr, rec.Header().Get(HeaderRequestID)} {
						assert.NotEqual(t, raw, kept)
						assert.NotContains(t, kept, "\n")
						assert.LessOrEqual(t, len(kept), MaxTracestateLen)
					}
				}
			}
			// The handler sees scrubbed headers; the caller's request is untouched.
			for _, name := range tc.invalid {
				for _, raw := range req.Header.Values(name) {
					assert.NotContains(t, seenHeader.Values(name), raw, name)
				}
			}
			if slicesContain(tc.invalid, HeaderCorrelationID) {
				assert.Equal(t, []string{v.CorrelationID}, seenHeader.Values(HeaderCorrelationID))
			}
			assert.Equal(t, tc.headers[http.CanonicalHeaderKey(HeaderCorrelationID)], req.Header[http.CanonicalHeaderKey(HeaderCorrelationID)])
			if slicesContain(tc.invalid, HeaderCorrelationID) {
				assert.Equal(t, v.TraceID, v.CorrelationID, "a malformed correlation ID is replaced by the trace ID, as a missing one is")
			}
		})
	}
}

func slicesContain(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// TestMiddlewareOverTheWire sends hostile requests over a real loopback
// connection (the Go client refuses to send CR/LF, so the request is written
// by hand).
func TestMiddlewareOverTheWire(t *testing.T) {
	var mu sync.Mutex
	var infos []RequestInfo
	srv := httptest.NewServer(Middleware(MiddlewareConfig{OnComplete: func(i RequestInfo) {
		mu.Lock()
		defer mu.Unlock()
		infos = append(infos, i)
	}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, CorrelationID(r.Context()))
	})))
	defer srv.Close()

	raw := "GET /wire HTTP/1.1\r\nHost: x\r\n" +
		"X-Correlation-ID: first\r\n" +
		"X-Correlation-ID: second\r\n" +
		"X-Request-ID: " + strings.Repeat("9", 10<<10) + "\r\n" +
		"Traceparent: " + tpValid + "\r\n" +
		"Connection: close\r\n\r\n"
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	corr := resp.Header.Get(HeaderCorrelationID)
	assert.True(t, ValidID(corr))
	assert.NotContains(t, []string{"first", "second"}, corr)
	assert.Equal(t, corr, string(body))
	assert.Empty(t, resp.Header.Get(HeaderRequestID))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, infos, 1)
	assert.Equal(t, tpTraceID, infos[0].Values.TraceID)
	assert.Equal(t, "127.0.0.1", infos[0].ClientIP)
	assert.ElementsMatch(t, []string{HeaderCorrelationID, HeaderRequestID}, infos[0].InvalidHeaders)
}

func TestMiddlewareRequestInfo(t *testing.T) {
	infos := make(chan RequestInfo, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "hello")
		_, _ = io.WriteString(w, " world")
	})
	srv := httptest.NewServer(Middleware(MiddlewareConfig{OnComplete: func(i RequestInfo) { infos <- i }})(mux))
	defer srv.Close()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/users/7?q=1", strings.NewReader("body"))
	require.NoError(t, err)
	req.Header.Set("User-Agent", "pipelog-test/1.0")
	before := time.Now()
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	i := <-infos
	assert.Equal(t, http.MethodPost, i.Method)
	assert.Equal(t, "/users/7", i.Path)
	assert.Equal(t, "POST /users/{id}", i.Route)
	assert.Equal(t, http.StatusCreated, i.Status)
	assert.Equal(t, int64(len("hello world")), i.Bytes)
	assert.Equal(t, "pipelog-test/1.0", i.UserAgent)
	assert.Equal(t, "127.0.0.1", i.ClientIP)
	assert.GreaterOrEqual(t, i.Duration, 5*time.Millisecond)
	assert.WithinDuration(t, before, i.Start, time.Second)
	assert.Nil(t, i.Panic)
	assert.Nil(t, i.Stack)
	assert.Equal(t, resp.Header.Get(HeaderCorrelationID), i.Values.CorrelationID)
	require.NotNil(t, i.Context)
	assert.Equal(t, i.Values, From(i.Context))
}

func TestMiddlewareDefaultStatusAndOptions(t *testing.T) {
	var info RequestInfo
	opts := MiddlewareConfig{
		OnComplete: func(i RequestInfo) { info = i },
		Route:      func(*http.Request) string { return "custom" },
		ClientIP:   func(*http.Request) string { return "203.0.113.9" },
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("User-Agent", strings.Repeat("é", MaxUserAgentLen)) // 2 bytes per rune
	serve(t, opts, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), req)
	assert.Equal(t, http.StatusOK, info.Status)
	assert.Zero(t, info.Bytes)
	assert.Equal(t, "custom", info.Route)
	assert.Equal(t, "203.0.113.9", info.ClientIP)
	assert.LessOrEqual(t, len(info.UserAgent), MaxUserAgentLen)
	assert.True(t, strings.HasPrefix(req.UserAgent(), info.UserAgent))
	assert.Equal(t, 0, len(info.UserAgent)%2, "cut on a rune boundary")
}

func TestMiddlewareKeepsContextValues(t *testing.T) {
	var got captured
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := WithLabel(WithWorker(r.Context(), "worker-3"), "tenant", "acme")
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	h := outer(Middleware(MiddlewareConfig{})(captureHandler(&got)))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, "worker-3", got.values.Worker)
	assert.Equal(t, []event.Label{{Key: "tenant", Value: "acme"}}, got.values.Labels)
	assert.True(t, ValidTraceID(got.values.TraceID))
}

type panicValue struct{ msg string }

func panickingHandler(v any) http.Handler {
	return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panicInHandler(v) })
}

func panicInHandler(v any) { panic(v) }

func TestMiddlewarePanicWrites500(t *testing.T) {
	for _, withHook := range []bool{true, false} {
		t.Run(fmt.Sprintf("hook=%v", withHook), func(t *testing.T) {
			var info RequestInfo
			called := false
			opts := MiddlewareConfig{}
			if withHook {
				opts.OnComplete = func(i RequestInfo) { info, called = i, true }
			}
			rec := serve(t, opts, panickingHandler(panicValue{"boom"}), httptest.NewRequest(http.MethodGet, "/p", nil))
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.Equal(t, "Internal Server Error\n", rec.Body.String())
			assert.NotEmpty(t, rec.Header().Get(HeaderCorrelationID))
			if withHook {
				require.True(t, called)
				assert.Equal(t, panicValue{"boom"}, info.Panic)
				assert.Contains(t, string(info.Stack), "panicInHandler")
				assert.False(t, info.Aborted)
				assert.Equal(t, http.StatusInternalServerError, info.Status)
			}
		})
	}
}

func TestMiddlewarePanicRepanics(t *testing.T) {
	var info RequestInfo
	h := Middleware(MiddlewareConfig{RepanicOnPanic: true, OnComplete: func(i RequestInfo) { info = i }})(panickingHandler("kaboom"))
	assert.PanicsWithValue(t, "kaboom", func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
	assert.Equal(t, "kaboom", info.Panic)
	assert.Contains(t, string(info.Stack), "panicInHandler")

	// Without a hook too.
	h = Middleware(MiddlewareConfig{RepanicOnPanic: true})(panickingHandler(errors.New("e")))
	assert.Panics(t, func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) })

	// Over the wire, net/http aborts the connection: the client sees an error.
	srv := httptest.NewUnstartedServer(Middleware(MiddlewareConfig{RepanicOnPanic: true})(panickingHandler("wire")))
	srv.Config.ErrorLog = discardLogger()
	srv.Start()
	defer srv.Close()
	_, err := srv.Client().Get(srv.URL)
	assert.Error(t, err)
}

func TestMiddlewareErrAbortHandlerAlwaysRepanics(t *testing.T) {
	for _, repanic := range []bool{false, true} {
		t.Run(fmt.Sprintf("repanic=%v", repanic), func(t *testing.T) {
			for _, withHook := range []bool{true, false} {
				var info RequestInfo
				opts := MiddlewareConfig{RepanicOnPanic: repanic}
				if withHook {
					opts.OnComplete = func(i RequestInfo) { info = i }
				}
				h := Middleware(opts)(panickingHandler(http.ErrAbortHandler))
				assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
				})
				if withHook {
					assert.True(t, info.Aborted)
					assert.Equal(t, http.ErrAbortHandler, info.Panic)
					assert.Nil(t, info.Stack)
				}
			}
		})
	}
}

func TestMiddlewarePanicAfterHeadersAborts(t *testing.T) {
	for _, withHook := range []bool{true, false} {
		var info RequestInfo
		opts := MiddlewareConfig{}
		if withHook {
			opts.OnComplete = func(i RequestInfo) { info = i }
		}
		h := Middleware(opts)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "partial")
			panic("late")
		}))
		rec := httptest.NewRecorder()
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() { h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil)) })
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "partial", rec.Body.String())
		if withHook {
			assert.Equal(t, "late", info.Panic)
			assert.Equal(t, http.StatusOK, info.Status)
			assert.Equal(t, int64(7), info.Bytes)
		}
	}
}

func TestResponseWriterOptionalInterfaces(t *testing.T) {
	infos := make(chan RequestInfo, 4)
	mux := http.NewServeMux()
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		assert.True(t, ok)
		_, _ = io.WriteString(w, "a")
		f.Flush()
		assert.NoError(t, http.NewResponseController(w).Flush())
		assert.NoError(t, http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)))
		_, _ = io.WriteString(w, "b")
	})
	mux.HandleFunc("/readfrom", func(w http.ResponseWriter, r *http.Request) {
		rf, ok := w.(io.ReaderFrom)
		assert.True(t, ok)
		n, err := rf.ReadFrom(strings.NewReader(strings.Repeat("x", 5000)))
		assert.NoError(t, err)
		assert.Equal(t, int64(5000), n)
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		assert.True(t, ok)
		conn, brw, err := hj.Hijack()
		assert.NoError(t, err)
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = brw.Flush()
	})
	srv := httptest.NewServer(Middleware(MiddlewareConfig{OnComplete: func(i RequestInfo) { infos <- i }})(mux))
	defer srv.Close()

	get := func(path string) string {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "ab", get("/flush"))
	i := <-infos
	assert.Equal(t, int64(2), i.Bytes)
	assert.Equal(t, http.StatusOK, i.Status)

	assert.Len(t, get("/readfrom"), 5000)
	i = <-infos
	assert.Equal(t, int64(5000), i.Bytes)

	assert.Equal(t, "hijacked", get("/hijack"))
	i = <-infos
	assert.True(t, i.Hijacked)

	// Flush and Hijack on a writer that supports neither.
	rw := &responseWriter{w: plainWriter{httptest.NewRecorder()}}
	rw.Flush()
	assert.ErrorIs(t, http.NewResponseController(rw).Flush(), http.ErrNotSupported)
	_, _, err := rw.Hijack()
	assert.ErrorIs(t, err, http.ErrNotSupported)
	n, err := rw.ReadFrom(strings.NewReader("abc"))
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	assert.Equal(t, int64(3), rw.bytes)
}

// plainWriter hides every optional interface of the recorder.
type plainWriter struct{ r *httptest.ResponseRecorder }

func (p plainWriter) Header() http.Header         { return p.r.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.r.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.r.WriteHeader(code) }

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func BenchmarkMiddleware(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	run := func(b *testing.B, h http.Handler, headers map[string]string) {
		req := httptest.NewRequest(http.MethodGet, "/bench", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		w := &benchWriter{h: make(http.Header)}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	}
	hook := MiddlewareConfig{OnComplete: func(RequestInfo) {}}
	b.Run("Bare", func(b *testing.B) { run(b, handler, nil) })
	b.Run("Minting", func(b *testing.B) { run(b, Middleware(MiddlewareConfig{})(handler), nil) })
	b.Run("MintingWithHook", func(b *testing.B) { run(b, Middleware(hook)(handler), nil) })
	b.Run("Propagating", func(b *testing.B) {
		run(b, Middleware(MiddlewareConfig{})(handler), map[string]string{
			HeaderTraceparent: tpValid, HeaderTracestate: "rojo=1", HeaderCorrelationID: "order-42",
		})
	})
	b.Run("PropagatingWithHook", func(b *testing.B) {
		run(b, Middleware(hook)(handler), map[string]string{
			HeaderTraceparent: tpValid, HeaderTracestate: "rojo=1", HeaderCorrelationID: "order-42",
		})
	})
}

// benchWriter is a minimal ResponseWriter (httptest.ResponseRecorder
// allocates too much to show the middleware's own cost).
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
