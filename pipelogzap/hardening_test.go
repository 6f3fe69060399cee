package pipelogzap_test

// Issue 11 through the zap core: each test here failed before its fix.

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/fuzzval"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogzap"
)

// zapLines writes through a fresh core (Panic and Fatal do not panic or
// exit: their hooks are no-ops) and returns the lines, checked for
// conformance; nothing may panic.
func zapLines(t *testing.T, cfg pipelog.Config, write func(*zap.Logger)) []map[string]any {
	t.Helper()
	pl, mem, _ := adapterLogger(t, cfg)
	z := zap.New(pipelogzap.NewCore(pl), zap.WithPanicHook(noopHook{}), zap.WithFatalHook(noopHook{}))
	require.NotPanics(t, func() { write(z) })
	return adapterLines(t, mem)
}

// noopHook lets Panic and Fatal return (zap refuses WriteThenNoop there).
type noopHook struct{}

func (noopHook) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) {}

func zapLine(t *testing.T, write func(*zap.Logger)) map[string]any {
	t.Helper()
	lines := zapLines(t, pipelog.Config{}, write)
	require.Len(t, lines, 1)
	return lines[0]
}

// Item 1: zap.Error and zap.NamedError with typed-nil and panicking
// errors, bare and wrapped, never panic; a typed nil is "<nil>".
func TestZapHostileErrors(t *testing.T) {
	for name, err := range fuzzval.HostileErrors() {
		t.Run(name, func(t *testing.T) {
			m := zapLine(t, func(z *zap.Logger) { z.Error("m", zap.Error(err), zap.NamedError("cause", err)) })
			msg, _ := at(m, "error.message").(string)
			assert.NotEmpty(t, msg)
			if strings.Contains(name, "nil") {
				assert.Contains(t, msg, "<nil>")
			}
			if name == "typed nil" || name == "panics" || name == "joined panics" {
				// (fmt.Errorf calls Error itself and stores "%!v(PANIC=…)")
				assert.NotEmpty(t, testlog.Notes(m))
			}
		})
	}
}

type panicObject struct{ after bool }

func (p panicObject) MarshalLogObject(e zapcore.ObjectEncoder) error {
	e.AddString("before", "x")
	if p.after {
		e.OpenNamespace("ns")
	}
	panic("MarshalLogObject boom")
}

type panicArray struct{}

func (panicArray) MarshalLogArray(e zapcore.ArrayEncoder) error {
	e.AppendString("x")
	_ = e.AppendArray(zapcore.ArrayMarshalerFunc(func(e zapcore.ArrayEncoder) error {
		e.AppendInt(1)
		panic("MarshalLogArray boom")
	}))
	return nil
}

type objectsInArray struct{}

func (objectsInArray) MarshalLogArray(e zapcore.ArrayEncoder) error {
	return e.AppendObject(panicObject{})
}

type panicStringer struct{}

func (panicStringer) String() string { panic("String boom") }

// Item 1: every user method the core calls is guarded: zap's
// ObjectMarshaler and ArrayMarshaler (at any depth), MarshalJSON through
// zap.Any. The panic is noted in Pipelog.encode_errors, the line stays
// valid and keeps the other fields.
func TestZapGuardedMarshalers(t *testing.T) {
	for name, f := range map[string]zapcore.Field{
		"Object":          zap.Object("v", panicObject{}),
		"Object ns":       zap.Object("v", panicObject{after: true}),
		"Array":           zap.Array("v", panicArray{}),
		"Object in Array": zap.Array("v", objectsInArray{}),
		"MarshalJSON":     zap.Any("v", fuzzval.PanicJSON{}),
		"nested JSON":     zap.Any("v", map[string]any{"x": []any{fuzzval.PanicJSON{}}}),
	} {
		t.Run(name, func(t *testing.T) {
			m := zapLine(t, func(z *zap.Logger) { z.Info("m", f, zap.Int("ok", 1)) })
			wantAt(t, m, "Pipelog.Attrs.ok", "1")
			assert.Contains(t, testlog.Notes(m), "Pipelog.Attrs.v")
			assert.Contains(t, testlog.Notes(m), "panicked")
		})
	}
	// A Stringer is written as zap writes it, and the panic noted.
	var nilStringer *fuzzval.NilErr
	m := zapLine(t, func(z *zap.Logger) {
		z.Info("m", zap.Stringer("s", panicStringer{}), zap.Stringer("n", nilStringer), zap.Stringer("d", time.Second))
	})
	wantAt(t, m, "Pipelog.Attrs.sError", "PANIC=String boom")
	wantAt(t, m, "Pipelog.Attrs.n", "<nil>")
	wantAt(t, m, "Pipelog.Attrs.d", "1s")
	assert.Contains(t, testlog.Notes(m), "Pipelog.Attrs.s: ")
	assert.Contains(t, testlog.Notes(m), "Pipelog.Attrs.n: ")
}

// Item 6: a string on an ECS ip field is checked; one that is not an
// address goes to the custom namespace with a note.
func TestZapIPValidated(t *testing.T) {
	m := zapLine(t, func(z *zap.Logger) {
		z.Info("m", zap.String("client.ip", "not-an-ip"), zap.String("source.ip", "10.0.0.1"),
			zap.Strings("related.ip", []string{"10.0.0.2", "bad"}), zap.Namespace("server"), zap.String("ip", "nope"))
	})
	wantAbsent(t, m, "client.ip")
	wantAt(t, m, "Pipelog.Attrs.client.ip", "not-an-ip")
	wantAt(t, m, "source.ip", "10.0.0.1")
	wantAbsent(t, m, "related.ip")
	assert.Equal(t, []any{"10.0.0.2", "bad"}, at(m, "Pipelog.Attrs.related.ip"))
	wantAt(t, m, "Pipelog.Attrs.server.ip", "nope")
	for _, f := range []string{"client.ip", "related.ip", "server.ip"} {
		assert.Contains(t, testlog.Notes(m), f)
	}
	m = zapLine(t, func(z *zap.Logger) { z.Info("m", zap.Strings("related.ip", []string{"10.0.0.2", "::1"})) })
	assert.Equal(t, []any{"10.0.0.2", "::1"}, at(m, "related.ip"))
}

// Item 13: DPanic, Panic and Fatal are written as ecszap writes them.
func TestZapLevelNames(t *testing.T) {
	lines := zapLines(t, pipelog.Config{Level: event.LevelDebug}, func(z *zap.Logger) {
		z.DPanic("dp")
		z.Panic("p")
		z.Fatal("f")
		z.Error("e")
	})
	require.Len(t, lines, 4)
	for i, want := range []string{"dpanic", "panic", "fatal", "error"} {
		wantAt(t, lines[i], "log.level", want)
	}
}

type userObject struct {
	id any
}

func (u userObject) MarshalLogObject(e zapcore.ObjectEncoder) error {
	e.AddString("name", "ada")
	e.AddReflected("id", u.id)
	return nil
}

// Item 13: zap.Object is one unit: its members go on ECS fields only when
// every one of them fits, otherwise all of it is custom, with a note.
func TestZapObjectIsOneUnit(t *testing.T) {
	m := zapLine(t, func(z *zap.Logger) { z.Info("m", zap.Object("user", userObject{id: 3})) })
	wantAbsent(t, m, "user")
	wantAt(t, m, "Pipelog.Attrs.user.name", "ada")
	wantAt(t, m, "Pipelog.Attrs.user.id", "3")
	assert.Contains(t, testlog.Notes(m), "user")

	m = zapLine(t, func(z *zap.Logger) { z.Info("m", zap.Object("user", userObject{id: "u-3"})) })
	wantAt(t, m, "user.name", "ada")
	wantAt(t, m, "user.id", "u-3")
	wantAbsent(t, m, "Pipelog")

	// A namespace is open-ended, not a unit: each field on its own.
	m = zapLine(t, func(z *zap.Logger) { z.Info("m", zap.Namespace("user"), zap.String("name", "ada"), zap.Int("id", 3)) })
	wantAt(t, m, "user.name", "ada")
	wantAt(t, m, "Pipelog.Attrs.user.id", "3")
}

// zap.Any values go through the encoder's own value encoder, as typed
// events' any fields do: times in UTC with µs, zero times left out, no HTML
// escaping, the key rule, and the depth limit with a note.
func TestZapAnyValuesLikeTypedEvents(t *testing.T) {
	v, deep := testlog.ValueRules()
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	pl, mem, _ := adapterLogger(t, pipelog.Config{})
	zap.New(pipelogzap.NewCore(pl)).Info("m", zap.Any("v", v), zap.Any("deep", deep), zap.Time("at", ts), zap.Times("ats", []time.Time{ts}))
	m := adapterLines(t, mem)[0]
	testlog.WantValueRules(t, mem.Lines()[0], m)
	wantAt(t, m, "Pipelog.Attrs.at", "2024-05-06T06:08:09.123456Z")
	wantAt(t, m, "Pipelog.Attrs.ats", []any{"2024-05-06T06:08:09.123456Z"})
}
