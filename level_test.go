package pipelog_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
)

func serveLevel(h http.Handler, method, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/log/level", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLevelHandler(t *testing.T) {
	log, _, _ := testlog.Logger(t, pipelog.Config{})
	derived := log.With(pipelog.Field{Key: "tenant", Value: "acme"})
	h := log.LevelHandler()

	rec := serveLevel(h, http.MethodGet, "", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"level":"info"}`, rec.Body.String())

	for _, c := range []struct {
		name, contentType, body string
		want                    event.Level
	}{
		{"json", "application/json", `{"level":"debug"}`, event.LevelDebug},
		{"json without a content type", "", `{"level":"WARN"}`, event.LevelWarn},
		{"json with an offset", "application/json; charset=utf-8", `{"level":"error+1"}`, event.LevelError + 1},
		{"form", "application/x-www-form-urlencoded", `level=info`, event.LevelInfo},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := serveLevel(h, http.MethodPut, c.contentType, c.body)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.JSONEq(t, `{"level":"`+c.want.String()+`"}`, rec.Body.String())
			assert.Equal(t, c.want, log.Level())
			assert.Equal(t, c.want, derived.Level(), "a derived Logger shares the level")
			assert.JSONEq(t, rec.Body.String(), serveLevel(h, http.MethodGet, "", "").Body.String())
		})
	}

	log.SetLevel(event.LevelWarn)
	for _, c := range []struct {
		name, contentType, body, want string
	}{
		{"unknown level", "application/json", `{"level":"verbose"}`, `unknown level \"verbose\"`},
		{"not json", "application/json", `level: debug`, `the body is not {\"level\":\"…\"}`},
		{"no level key", "application/json", `{"lvl":"debug"}`, `the body has no \"level\"`},
		{"empty body", "application/json", ``, `empty body`},
		{"two values", "application/json", `{"level":"debug"}{"level":"info"}`, `more than one JSON value`},
		{"form without level", "application/x-www-form-urlencoded", `lvl=debug`, `the form has no level`},
		{"form with an unknown level", "application/x-www-form-urlencoded", `level=loud`, `unknown level \"loud\"`},
		{"too large", "application/json", `{"level":"debug","pad":"` + strings.Repeat("x", 2000) + `"}`, `request body too large`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := serveLevel(h, http.MethodPut, c.contentType, c.body)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Contains(t, rec.Body.String(), `{"error":"`)
			assert.Contains(t, rec.Body.String(), c.want)
			assert.Equal(t, event.LevelWarn, log.Level(), "a refused PUT leaves the level alone")
		})
	}

	rec = serveLevel(h, http.MethodPost, "application/json", `{"level":"debug"}`)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, PUT", rec.Header().Get("Allow"))
	assert.Equal(t, event.LevelWarn, log.Level())
}

// TestLevelHandlerTakesEffect: events below a level set through the
// handler are skipped, events above written, while other goroutines emit
// (run with -race).
func TestLevelHandlerTakesEffect(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	h := log.LevelHandler()
	type Tick struct{ event.Base }
	ctx := context.Background()

	pipelog.Emit(ctx, log, Tick{Base: event.Debug("hidden")})
	require.Equal(t, http.StatusOK, serveLevel(h, http.MethodPut, "", `{"level":"debug"}`).Code)
	pipelog.Emit(ctx, log, Tick{Base: event.Debug("shown")})

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				pipelog.Emit(ctx, log, Tick{Base: event.Info("busy")})
			}
		}()
	}
	for _, l := range []string{"error", "debug", "warn", "info"} {
		serveLevel(h, http.MethodPut, "", `{"level":"`+l+`"}`)
	}
	wg.Wait()
	require.NoError(t, log.Close(ctx))
	lines := testlog.Lines(t, mem)
	require.GreaterOrEqual(t, len(lines), 2)
	testlog.WantAt(t, lines[0], "message", "shown")
}

func TestLevelHandlerNilLogger(t *testing.T) {
	var log *pipelog.Logger
	rec := serveLevel(log.LevelHandler(), http.MethodPut, "", `{"level":"debug"}`)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"level":"info"}`, rec.Body.String(), "a nil Logger discards everything and stays at info")
}
