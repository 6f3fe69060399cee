package pipelogzap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogzap"
	"github.com/pipelog/pipelog/sink"
)

func TestZapCoreFieldsPlacement(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	z := zap.New(pipelogzap.NewCore(log))
	z.Info("served",
		zap.String("url.path", "/orders"),
		zap.Int("http.response.bytes", 512),
		zap.Duration("event.duration", 3*time.Millisecond),
		zap.String("tenant", "acme"),
		zap.String("message", "user message"),
		zap.String("ecs.version", "1.6.0"),
		zap.String("labels.team", "data"),
	)
	line := mem.Lines()[0]
	m := adapterLines(t, mem)[0]
	wantAt(t, m, "message", "served")
	wantAt(t, m, "url.path", "/orders")
	wantAt(t, m, "http.response.bytes", "512")
	wantAt(t, m, "event.duration", "3000000")
	wantAt(t, m, "labels.team", "data")
	wantAt(t, m, "Pipelog.Attrs.tenant", "acme")
	wantAt(t, m, "Pipelog.Attrs.message", "user message")
	wantAt(t, m, "Pipelog.Attrs.ecs.version", "1.6.0")
	wantAt(t, m, "ecs.version", "9.4.0")
	if keys := topKeys(t, line); len(keys) < 4 || keys[3] != "ecs.version" {
		t.Errorf("top-level keys %v: ecs.version must be the 4th", keys)
	}
}

// topKeys lists the line's top-level keys in order, with a token decoder.
func topKeys(t *testing.T, line []byte) []string {
	t.Helper()
	var m orderedTop
	if err := m.parse(line); err != nil {
		t.Fatal(err)
	}
	return m.keys
}

type orderedTop struct{ keys []string }

func (o *orderedTop) parse(line []byte) error {
	d := json.NewDecoder(bytes.NewReader(line))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not an object: %v", err)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return err
		}
		o.keys = append(o.keys, k.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

func TestZapNamespaceKeepsECSVersionTopLevel(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	z := zap.New(pipelogzap.NewCore(log)).With(zap.String("a", "1"), zap.Namespace("req"), zap.String("id", "r1"))
	z.Info("m", zap.String("path", "/x"), zap.Namespace("inner"), zap.Int("n", 1), zap.Error(errors.New("boom")))
	m := adapterLines(t, mem)[0]
	wantAt(t, m, "ecs.version", "9.4.0")
	wantAt(t, m, "Pipelog.Attrs.a", "1")
	wantAt(t, m, "Pipelog.Attrs.req.id", "r1")
	wantAt(t, m, "Pipelog.Attrs.req.path", "/x")
	wantAt(t, m, "Pipelog.Attrs.req.inner.n", "1")
	wantAt(t, m, "error.message", "boom") // zap.Error is the line's error, in a namespace too
	wantAbsent(t, m, "Pipelog.Attrs.req.ecs")
	wantAbsent(t, m, "Pipelog.Attrs.req.inner.error")
}

func TestZapDoesNotMutateFields(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	core := pipelogzap.NewCore(log)
	err := fmt.Errorf("wrapped: %w", errors.New("inner"))
	fields := make([]zapcore.Field, 0, 8)
	fields = append(fields, zap.Error(err), zap.NamedError("cause", err), zap.String("k", "v"))
	before := append([]zapcore.Field(nil), fields[:cap(fields)]...)
	derived := core.With(fields)
	ent := zapcore.Entry{Level: zapcore.ErrorLevel, Message: "m", Time: time.Now()}
	if err := derived.Write(ent, fields); err != nil {
		t.Fatal(err)
	}
	if err := core.Write(ent, fields); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, fields[:cap(fields)]) {
		t.Errorf("the caller's fields changed:\nbefore %+v\nafter  %+v", before, fields[:cap(fields)])
	}
	for _, m := range adapterLines(t, mem) {
		wantAt(t, m, "error.message", "wrapped: inner")
		wantAt(t, m, "Pipelog.Attrs.cause", "wrapped: inner")
	}
}

func TestZapErrors(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	z := zap.New(pipelogzap.NewCore(log))
	wrapped := fmt.Errorf("load: %w", fmt.Errorf("open: %w", &codeError{7}))
	joined := errors.Join(fmt.Errorf("a: %w", fs.ErrNotExist), errors.New("b"))
	z.Error("e", zap.Error(wrapped))                                       // 0
	z.Error("e", zap.Error(joined))                                        // 1
	z.Error("e", zap.Error(errors.New("first")), zap.Error(wrapped))       // 2: last wins
	z.Error("e", zap.NamedError("cause", wrapped), zap.Error(joined))      // 3
	z.Error("e", zap.Error(nil), zap.NamedError("err", wrapped))           // 4: "err" is the error too
	z.With(zap.Error(errors.New("with"))).Error("e", zap.String("k", "v")) // 5
	lines := adapterLines(t, mem)
	wantAt(t, lines[0], "error.type", "*pipelogzap_test.codeError")
	wantAt(t, lines[0], "error.message", "load: open: code 7")
	wantAt(t, lines[1], "error.type", "*errors.errorString")
	wantAt(t, lines[1], "error.message", "a: file does not exist\nb")
	wantAt(t, lines[2], "error.message", "load: open: code 7")
	wantAt(t, lines[3], "Pipelog.Attrs.cause", "load: open: code 7")
	wantAt(t, lines[3], "error.message", "a: file does not exist\nb")
	wantAt(t, lines[4], "error.type", "*pipelogzap_test.codeError")
	wantAt(t, lines[5], "error.message", "with")
}

type flushCounter struct {
	flushes atomic.Int32
	lines   atomic.Int32
}

func (f *flushCounter) Write([]byte) error              { f.lines.Add(1); return nil }
func (f *flushCounter) Flush(context.Context) error     { f.flushes.Add(1); return nil }
func (f *flushCounter) Close(ctx context.Context) error { return f.Flush(ctx) }

func TestZapWithCheckSyncSampling(t *testing.T) {
	fc := &flushCounter{}
	log, err := pipelog.New(pipelog.Config{Service: "s", Level: event.LevelInfo, Sinks: []sink.Sink{fc}})
	if err != nil {
		t.Fatal(err)
	}
	core := pipelogzap.NewCore(log)
	if ce := core.Check(zapcore.Entry{Level: zapcore.DebugLevel}, nil); ce != nil {
		t.Error("Check accepted a disabled level")
	}
	if ce := core.Check(zapcore.Entry{Level: zapcore.WarnLevel}, nil); ce == nil {
		t.Error("Check refused an enabled level")
	}
	z := zap.New(core)
	if err := z.Sync(); err != nil || fc.flushes.Load() != 1 {
		t.Errorf("Sync: %v, %d flushes", err, fc.flushes.Load())
	}
	sampled := zap.New(zapcore.NewSamplerWithOptions(core, time.Minute, 2, 0))
	for range 10 {
		sampled.Info("same message")
	}
	sampled.Info("other message")
	if n := fc.lines.Load(); n != 3 {
		t.Errorf("sampler let %d lines through, want 3", n)
	}
	before := fc.flushes.Load()
	z.DPanic("flushed before zap may panic")
	if fc.flushes.Load() != before+1 {
		t.Error("a DPanic entry did not flush the sinks")
	}

	// With is immutable: a derived core's fields do not leak into its parent
	// or siblings.
	log2, mem, _ := adapterLogger(t, pipelog.Config{})
	base := zap.New(pipelogzap.NewCore(log2))
	a := base.With(zap.String("a", "1"))
	b := a.With(zap.String("b", "2"))
	c := a.With(zap.String("c", "3"))
	base.Info("0")
	a.Info("1")
	b.Info("2", zap.String("a", "override"))
	c.Info("3")
	lines := adapterLines(t, mem)
	wantAbsent(t, lines[0], "Pipelog.Attrs")
	wantAt(t, lines[1], "Pipelog.Attrs.a", "1")
	wantAbsent(t, lines[1], "Pipelog.Attrs.b")
	wantAt(t, lines[2], "Pipelog.Attrs.a", "override")
	wantAt(t, lines[2], "Pipelog.Attrs.b", "2")
	wantAt(t, lines[3], "Pipelog.Attrs.c", "3")
	wantAbsent(t, lines[3], "Pipelog.Attrs.b")
}

func TestZapLevelsNamesCallerStack(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{Level: event.LevelDebug, Name: "app"})
	z := zap.New(pipelogzap.NewCore(log), zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel))
	z.Debug("d")
	z.Warn("w")
	z.Named("db").Error("e", zap.Error(errors.New("x")))
	z.Error("no error field")
	z.DPanic("dp")
	lines := adapterLines(t, mem)
	wantAt(t, lines[0], "log.level", "debug")
	wantAt(t, lines[1], "log.level", "warn")
	wantAt(t, lines[2], "log.level", "error")
	wantAt(t, lines[4], "log.level", "dpanic")
	wantAt(t, lines[0], "log.logger", "app")
	wantAt(t, lines[2], "log.logger", "app.db")
	if f, _ := at(lines[0], "log.origin.file.name").(string); !strings.HasSuffix(f, "pipelogzap/core_test.go") {
		t.Errorf("log.origin.file.name = %q", f)
	}
	if s, _ := at(lines[2], "error.stack_trace").(string); !strings.Contains(s, "TestZapLevelsNamesCallerStack") {
		t.Errorf("error.stack_trace = %q", s)
	}
	wantAt(t, lines[2], "error.type", "*errors.errorString")
	if s, _ := at(lines[3], "Pipelog.stack_trace").(string); !strings.Contains(s, "TestZapLevelsNamesCallerStack") {
		t.Errorf("Pipelog.stack_trace = %q", s)
	}
}

type user struct{ name, email string }

func (u user) MarshalLogObject(e zapcore.ObjectEncoder) error {
	e.AddString("name", u.name)
	e.AddString("contact.email", u.email)
	e.AddString("name", u.name+"!") // duplicate: last wins
	e.OpenNamespace("ns")
	e.AddInt("n", 1)
	return nil
}

func TestZapObjectsArraysAndTypes(t *testing.T) {
	log, mem, errs := adapterLogger(t, pipelog.Config{})
	z := zap.New(pipelogzap.NewCore(log))
	z.Info("types",
		zap.Object("u", user{"ada", "a@x"}),
		zap.Objects("us", []user{{"a", "b"}, {"c", "d"}}),
		zap.Strings("ss", []string{"x", "y"}),
		zap.Ints("is", []int{1, 2}),
		zap.Any("m", map[string]int{"k": 1}),
		zap.Binary("bin", []byte("hi")),
		zap.ByteString("bs", []byte("text")),
		zap.Time("t", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		zap.Float64("nan", func() float64 { var z float64; return 0 / z }()),
		zap.Complex128("c", 1+2i),
		zap.Stringer("str", time.Second),
		zap.Bool("b", true),
		zap.Uint8("u8", 8),
		zap.Inline(user{"in", "line"}),
	)
	m := adapterLines(t, mem)[0]
	wantAt(t, m, "Pipelog.Attrs.u.name", "ada!")
	wantAt(t, m, "Pipelog.Attrs.u.contact.email", "a@x")
	wantAt(t, m, "Pipelog.Attrs.u.ns.n", "1")
	wantAt(t, m, "Pipelog.Attrs.ss", "[x y]")
	wantAt(t, m, "Pipelog.Attrs.is", "[1 2]")
	wantAt(t, m, "Pipelog.Attrs.m.k", "1")
	wantAt(t, m, "Pipelog.Attrs.bin", "aGk=")
	wantAt(t, m, "Pipelog.Attrs.bs", "text")
	wantAt(t, m, "Pipelog.Attrs.t", "2026-01-02T03:04:05.000000Z")
	wantAt(t, m, "Pipelog.Attrs.c", "(1+2i)")
	wantAt(t, m, "Pipelog.Attrs.str", "1s")
	wantAt(t, m, "Pipelog.Attrs.u8", "8")
	wantAt(t, m, "Pipelog.Attrs.name", "in!")
	wantAt(t, m, "Pipelog.Attrs.contact.email", "line")
	us, _ := at(m, "Pipelog.Attrs.us").([]any)
	if len(us) != 2 || at(us[0].(map[string]any), "contact.email") != "b" {
		t.Errorf("us = %#v", us)
	}
	if attrs := at(m, "Pipelog.Attrs").(map[string]any); attrs["nan"] != nil {
		t.Errorf("nan = %#v", attrs["nan"])
	}
	if len(errs()) != 0 {
		t.Errorf("OnError: %v", errs())
	}
}

func TestZapContextField(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	z := zap.New(pipelogzap.NewCore(log))
	z.Info("m", pipelogzap.Context(ctx), zap.String("k", "v"))
	z.With(pipelogzap.Context(ctx)).Info("m")
	z.Info("m")
	lines := adapterLines(t, mem)
	wantAt(t, lines[0], "trace.id", "4bf92f3577b34da6a3ce929d0e0e4736")
	wantAt(t, lines[1], "span.id", "00f067aa0ba902b7")
	wantAbsent(t, lines[2], "trace")
	wantAt(t, lines[0], "Pipelog.Attrs.k", "v")
}

func TestAllocZapWrite(t *testing.T) {
	skipIfRace(t)
	log, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{&flushCounter{}}})
	if err != nil {
		t.Fatal(err)
	}
	core := pipelogzap.NewCore(log).With([]zapcore.Field{zap.String("tenant", "acme")})
	fields := []zapcore.Field{zap.String("url.path", "/o"), zap.Int("items", 3), zap.Bool("retry", true), zap.Error(errors.New("x"))}
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Message: "m", Time: time.Now()}
	if n := testing.AllocsPerRun(200, func() { _ = core.Write(ent, fields) }); n > 0 {
		t.Errorf("%v allocations per Write, want 0", n)
	}
}

type dotted map[string]any

func (d dotted) MarshalLogObject(e zapcore.ObjectEncoder) error {
	for k, v := range d {
		_ = e.AddReflected(k, v)
		e.AddString(k, "again")
	}
	return nil
}

// TestZapRandomFieldsStayConformant is TestSlogRandomAttrsStayConformant
// for zap: namespaces, objects, arrays of objects, maps with dotted keys,
// error fields and colliding keys, every line conformant.
func TestZapRandomFieldsStayConformant(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	keys := []string{"a", "a.b", "b", "", ".", "labels.x", "url.path", "error", "err", "message", "ecs.version", "http.response.bytes"}
	seed := uint64(7)
	rnd := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	field := func() zapcore.Field {
		k := keys[rnd(len(keys))]
		switch rnd(10) {
		case 0:
			return zap.Namespace(k)
		case 1:
			return zap.Object(k, dotted{"x.y": 1, "": "e", k: true})
		case 2:
			return zap.Objects(k, []dotted{{"p.q": 1}, {"p": 2}})
		case 3:
			return zap.Any(k, map[string]any{"m.n": 1, "m": map[string]any{"o": 2}})
		case 4:
			return zap.NamedError(k, errors.New("e"))
		case 5:
			return zap.Strings(k, []string{"s"})
		case 6:
			return zap.Int(k, rnd(100))
		case 7:
			return zap.Float64(k, 1.5)
		}
		return zap.String(k, "v")
	}
	base := zap.New(pipelogzap.NewCore(log))
	for range 2000 {
		z := base
		for range rnd(3) {
			z = z.With(field())
		}
		var fs []zapcore.Field
		for range rnd(8) {
			fs = append(fs, field())
		}
		z.Info("m", fs...)
	}
	adapterLines(t, mem)
}

func TestZapNilLogger(t *testing.T) {
	var log *pipelog.Logger
	z := zap.New(pipelogzap.NewCore(log)).With(zap.String("a", "b"))
	z.Error("dropped")
	if err := z.Sync(); err != nil {
		t.Fatal(err)
	}
}

var (
	adapterClock  = testlog.Clock
	adapterLogger = testlog.Logger
	adapterLines  = testlog.Lines
	at            = testlog.At
	wantAt        = testlog.WantAt
	wantAbsent    = testlog.WantAbsent
	skipIfRace    = testlog.SkipUnderRace
)

type discard = testlog.Discard

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }
