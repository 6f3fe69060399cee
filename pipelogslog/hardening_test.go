package pipelogslog_test

// Issue 11 through the slog handler: each test here failed before its fix.

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/fuzzval"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogslog"
)

// slogLine logs one record through a fresh handler and returns its line,
// checked for conformance; the record must not panic.
func slogLine(t *testing.T, log func(*slog.Logger)) map[string]any {
	t.Helper()
	pl, mem, _ := adapterLogger(t, pipelog.Config{})
	require.NotPanics(t, func() { log(slog.New(pipelogslog.NewHandler(pl, pipelogslog.Config{}))) })
	lines := adapterLines(t, mem)
	require.Len(t, lines, 1)
	return lines[0]
}

// Item 1: typed-nil and panicking errors, bare and wrapped, as the line's
// error ("err") or as any other attribute, never panic; a typed nil is
// written "<nil>" (as slog writes it) with a note.
func TestSlogHostileErrors(t *testing.T) {
	for name, err := range fuzzval.HostileErrors() {
		t.Run(name, func(t *testing.T) {
			m := slogLine(t, func(l *slog.Logger) { l.Error("m", "err", err) })
			assert.NotEmpty(t, at(m, "error.message"))
			m = slogLine(t, func(l *slog.Logger) { l.Error("m", "cause", err, slog.Group("g", "err", err)) })
			for _, p := range []string{"Pipelog.Attrs.cause", "Pipelog.Attrs.g.err"} {
				s, _ := at(m, p).(string)
				assert.NotEmpty(t, s, p)
				if strings.Contains(name, "nil") {
					assert.Contains(t, s, "<nil>", p)
				}
			}
			if name == "typed nil" || name == "panics" || name == "joined panics" {
				// (fmt.Errorf calls Error itself and stores "%!v(PANIC=…)")
				assert.Contains(t, testlog.Notes(m), "Pipelog.Attrs.cause")
			}
		})
	}
}

type panicStringer struct{}

func (panicStringer) String() string { panic("String boom") }

type panicValuer struct{}

func (panicValuer) LogValue() slog.Value { panic("LogValue boom") }

// Item 1: every user method the handler calls is guarded; a panic is
// noted in Pipelog.encode_errors (as for typed events) and the line stays
// valid.
func TestSlogGuardedMethods(t *testing.T) {
	for name, v := range map[string]any{
		"String": panicStringer{}, "MarshalJSON": fuzzval.PanicJSON{}, "MarshalText": fuzzval.PanicText{},
		"LogValue": panicValuer{}, "nested": map[string]any{"x": []any{fuzzval.PanicJSON{}}},
	} {
		t.Run(name, func(t *testing.T) {
			m := slogLine(t, func(l *slog.Logger) { l.Info("m", "v", v, "ok", 1) })
			wantAt(t, m, "Pipelog.Attrs.ok", "1")
			assert.Contains(t, testlog.Notes(m), "Pipelog.Attrs.v")
			assert.Contains(t, testlog.Notes(m), "panicked")
		})
	}
}

// Item 6: a string on an ECS ip field is checked; one that is not an
// address goes to the custom namespace with a note, as typed events' do.
func TestSlogIPValidated(t *testing.T) {
	m := slogLine(t, func(l *slog.Logger) {
		l.Info("m", "client.ip", "not-an-ip", "source.ip", "10.0.0.1",
			"related.ip", []string{"10.0.0.2", "bad"}, slog.Group("destination", "ip", "::1"),
			slog.Group("server", "ip", "nope"))
	})
	wantAbsent(t, m, "client.ip")
	wantAt(t, m, "Pipelog.Attrs.client.ip", "not-an-ip")
	wantAt(t, m, "source.ip", "10.0.0.1")
	wantAt(t, m, "destination.ip", "::1")
	wantAbsent(t, m, "related.ip")
	assert.Equal(t, []any{"10.0.0.2", "bad"}, at(m, "Pipelog.Attrs.related.ip"))
	wantAbsent(t, m, "server.ip")
	wantAt(t, m, "Pipelog.Attrs.server.ip", "nope")
	for _, f := range []string{"client.ip", "related.ip", "server.ip"} {
		assert.Contains(t, testlog.Notes(m), f)
	}

	m = slogLine(t, func(l *slog.Logger) { l.Info("m", "related.ip", []string{"10.0.0.2", "fe80::1%eth0"}) })
	assert.Equal(t, []any{"10.0.0.2", "fe80::1%eth0"}, at(m, "related.ip"))
	wantAbsent(t, m, "Pipelog.encode_errors")
}

// Item 13: slog code sets http.response.status_code (a record carries no
// status of its own); a value that does not fit stays custom.
func TestSlogStatusCode(t *testing.T) {
	m := slogLine(t, func(l *slog.Logger) { l.Info("m", "http.response.status_code", 404) })
	wantAt(t, m, "http.response.status_code", "404")
	wantAbsent(t, m, "Pipelog.Attrs")
	m = slogLine(t, func(l *slog.Logger) {
		l.Info("m", slog.Group("http", slog.Group("response", "status_code", 201, "bytes", 10)))
	})
	wantAt(t, m, "http.response.status_code", "201")
	wantAt(t, m, "http.response.bytes", "10")
	m = slogLine(t, func(l *slog.Logger) { l.Info("m", "http.response.status_code", "teapot") })
	wantAbsent(t, m, "http.response.status_code")
	wantAt(t, m, "Pipelog.Attrs.http.response.status_code", "teapot")
}

// Item 13: a group attribute is one unit: its members go on ECS fields only
// when every one of them fits, otherwise all of it is custom, with a note.
func TestSlogGroupIsOneUnit(t *testing.T) {
	m := slogLine(t, func(l *slog.Logger) { l.Info("m", slog.Group("user", "name", "ada", "id", 3)) })
	wantAbsent(t, m, "user")
	wantAt(t, m, "Pipelog.Attrs.user.name", "ada")
	wantAt(t, m, "Pipelog.Attrs.user.id", "3")
	assert.Contains(t, testlog.Notes(m), "user")

	m = slogLine(t, func(l *slog.Logger) { l.Info("m", slog.Group("user", "name", "ada", "id", "u-3")) })
	wantAt(t, m, "user.name", "ada")
	wantAt(t, m, "user.id", "u-3")
	wantAbsent(t, m, "Pipelog")

	// WithGroup is not a unit: it is open-ended, each attribute on its own.
	pl, mem, _ := adapterLogger(t, pipelog.Config{})
	slog.New(pipelogslog.NewHandler(pl, pipelogslog.Config{})).WithGroup("user").Info("m", "name", "ada", "id", 3)
	line := adapterLines(t, mem)[0]
	wantAt(t, line, "user.name", "ada")
	wantAt(t, line, "Pipelog.Attrs.user.id", "3")
}

// Values of kind any go through the encoder's own value encoder, as typed
// events' any fields do: times in UTC with µs, zero times left out, no HTML
// escaping, the key rule, and the depth limit with a note.
func TestSlogAnyValuesLikeTypedEvents(t *testing.T) {
	v, deep := testlog.ValueRules()
	pl, mem, _ := adapterLogger(t, pipelog.Config{})
	slog.New(pipelogslog.NewHandler(pl, pipelogslog.Config{})).Info("m", "v", v, "deep", deep)
	testlog.WantValueRules(t, mem.Lines()[0], adapterLines(t, mem)[0])
}
