package pipelogslog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogslog"
	"github.com/pipelog/pipelog/sink"
)

var (
	adapterClock  = testlog.Clock
	adapterLogger = testlog.Logger
	adapterLines  = testlog.Lines
	at            = testlog.At
	wantAt        = testlog.WantAt
	wantAbsent    = testlog.WantAbsent
)

// TestSlogHandlerConformance runs the standard library's handler
// conformance suite. The result function maps the ECS line back to slog's
// keys: message → msg, log.level → level, @timestamp → time (except the
// Logger's own clock, which stands in for a record without a time because
// the ecs-logging spec requires @timestamp), log.origin → source, and the
// members of Pipelog.Attrs.
func TestSlogHandlerConformance(t *testing.T) {
	var mem *memsink.Sink
	newHandler := func(t *testing.T) slog.Handler {
		var log *pipelog.Logger
		log, mem, _ = adapterLogger(t, pipelog.Config{Caller: true, Level: event.LevelDebug})
		return pipelogslog.NewHandler(log, pipelogslog.Config{})
	}
	result := func(t *testing.T) map[string]any {
		lines := adapterLines(t, mem)
		if len(lines) != 1 {
			t.Fatalf("got %d lines, want 1", len(lines))
		}
		return slogResult(t, lines[0])
	}
	slogtest.Run(t, newHandler, result)
}

// TestSlogHandlerTestHandler is the same suite through slogtest.TestHandler:
// one handler, every case's line in order.
func TestSlogHandlerTestHandler(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{Caller: true})
	err := slogtest.TestHandler(pipelogslog.NewHandler(log, pipelogslog.Config{}), func() []map[string]any {
		var out []map[string]any
		for _, m := range adapterLines(t, mem) {
			out = append(out, slogResult(t, m))
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
}

func slogResult(t *testing.T, line map[string]any) map[string]any {
	out := map[string]any{}
	if attrs, ok := at(line, "Pipelog.Attrs").(map[string]any); ok {
		for k, v := range attrs {
			out[k] = v
		}
	}
	out[slog.MessageKey] = line["message"]
	out[slog.LevelKey] = line["log.level"]
	ts, _ := line["@timestamp"].(string)
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("@timestamp %q: %v", ts, err)
	}
	if !tm.Equal(adapterClock) {
		out[slog.TimeKey] = tm
	}
	if o := at(line, "log.origin"); o != nil {
		out[slog.SourceKey] = o
	}
	return out
}

func TestSlogECSPlacementAndTypes(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	l := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	l.Info("served",
		"url.path", "/orders",
		"http.request.method", "POST",
		"http.response.bytes", 512,
		"event.duration", 1500*time.Microsecond,
		slog.Group("user", slog.String("name", "ada")),
		"http.response.mime_type", 42, // wrong type for keyword: stays custom
		"tenant", "acme",
		"event.kind", "alert", // overridable library field
		"message", "not the message", // written by pipelog itself: custom
		"service.name", "imposter",
		"labels.team", "data",
	)
	m := adapterLines(t, mem)[0]
	wantAt(t, m, "message", "served")
	wantAt(t, m, "url.path", "/orders")
	wantAt(t, m, "http.request.method", "POST")
	wantAt(t, m, "http.response.bytes", "512")
	wantAt(t, m, "event.duration", "1500000")
	wantAt(t, m, "user.name", "ada")
	wantAt(t, m, "event.kind", "alert")
	wantAt(t, m, "service.name", "orders-etl")
	wantAt(t, m, "labels.team", "data")
	wantAt(t, m, "Pipelog.Attrs.http.response.mime_type", "42")
	wantAt(t, m, "Pipelog.Attrs.tenant", "acme")
	wantAt(t, m, "Pipelog.Attrs.message", "not the message")
	wantAt(t, m, "Pipelog.Attrs.service.name", "imposter")
	wantAbsent(t, m, "Pipelog.Attrs.url")
	wantAbsent(t, m, "Pipelog.Attrs.user")
	wantAt(t, m, "ecs.version", "9.4.0")
}

// TestSlogNoDuplicateKeys pins the duplicate rules: last wins at a path,
// groups merge, a value and a group at one path: the later wins.
// adapterLines fails on any duplicate key (token-level check).
func TestSlogNoDuplicateKeys(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	l := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{})).With("x", 1, "url.path", "/with")
	l.Info("m", "x", 2, "x", 3)                                               // 0: record replaces With, last wins
	l.Info("m", "a", 1, "a.b", 2)                                             // 1: a becomes {b:2}
	l.Info("m", "a.b", 2, "a", 1)                                             // 2: a becomes 1
	l.Info("m", slog.Group("g", "p", 1), slog.Group("g", "q", 2))             // 3: groups merge
	l.Info("m", "url.path", "/record")                                        // 4: ECS field: last wins
	l.Info("m", "k.", 1, ".k", 2, "", 3)                                      // 5: empty segments become _, last wins
	l.WithGroup("g").With("k", 1).Info("m", "k", 2, "g", "outside")           // 6: With inside a group, record replaces
	l.Info("m", "labels.t", "1", "labels.t", "2")                             // 7: labels: last wins
	l.Info("m", "url.path", 3)                                                // 8: a custom value replaces the With's ECS field
	l.With("http.response.bytes", "many").Info("m", "http.response.bytes", 5) // 9: and the other way round
	lines := adapterLines(t, mem)
	wantAt(t, lines[0], "Pipelog.Attrs.x", "3")
	wantAt(t, lines[1], "Pipelog.Attrs.a.b", "2")
	wantAt(t, lines[2], "Pipelog.Attrs.a", "1")
	wantAt(t, lines[3], "Pipelog.Attrs.g.p", "1")
	wantAt(t, lines[3], "Pipelog.Attrs.g.q", "2")
	wantAt(t, lines[4], "url.path", "/record")
	wantAt(t, lines[0], "url.path", "/with")
	wantAt(t, lines[5], "Pipelog.Attrs.k._", "1")
	wantAt(t, lines[5], "Pipelog.Attrs._", "3") // "" replaced the group "_" made by ".k"
	wantAt(t, lines[6], "Pipelog.Attrs.g.k", "2")
	wantAt(t, lines[6], "Pipelog.Attrs.g.g", "outside")
	wantAt(t, lines[6], "Pipelog.Attrs.x", "1")
	wantAt(t, lines[7], "labels.t", "2")
	wantAbsent(t, lines[8], "url")
	wantAt(t, lines[8], "Pipelog.Attrs.url.path", "3")
	wantAt(t, lines[9], "http.response.bytes", "5")
	wantAbsent(t, lines[9], "Pipelog.Attrs.http")
	if bytes.Count(mem.Lines()[0], []byte(`"x":`)) != 1 {
		t.Errorf("x written more than once: %s", mem.Lines()[0])
	}
}

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

func TestSlogErrorAttr(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	l := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	wrapped := fmt.Errorf("load: %w", fmt.Errorf("open: %w", &codeError{7}))
	joined := errors.Join(fmt.Errorf("a: %w", fs.ErrNotExist), errors.New("b"))
	l.Error("failed", "err", wrapped)                                  // 0
	l.Error("failed", "error", joined)                                 // 1
	l.With("err", errors.New("old")).Error("failed", "error", wrapped) // 2: last wins
	l.Error("failed", slog.Group("db", "err", wrapped))                // 3: in a group: text
	l.Error("failed", "err", "not an error", "cause", wrapped)         // 4
	l.Error("failed", "err", event.WithStack(errors.New("boom")))      // 5: stack trace
	lines := adapterLines(t, mem)
	wantAt(t, lines[0], "error.message", "load: open: code 7")
	wantAt(t, lines[0], "error.type", "*pipelogslog_test.codeError")
	wantAbsent(t, lines[0], "Pipelog.Attrs")
	wantAt(t, lines[1], "error.message", "a: file does not exist\nb")
	wantAt(t, lines[1], "error.type", "*errors.errorString")
	wantAt(t, lines[2], "error.message", "load: open: code 7")
	wantAt(t, lines[3], "Pipelog.Attrs.db.err", "load: open: code 7")
	wantAbsent(t, lines[3], "error")
	wantAt(t, lines[4], "Pipelog.Attrs.err", "not an error")
	wantAt(t, lines[4], "Pipelog.Attrs.cause", "load: open: code 7")
	if s, _ := at(lines[5], "error.stack_trace").(string); !strings.Contains(s, "TestSlogErrorAttr") {
		t.Errorf("error.stack_trace = %q", s)
	}
}

func TestSlogLevels(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{Level: -128})
	h := pipelogslog.NewHandler(log, pipelogslog.Config{})
	l := slog.New(h)
	ctx := context.Background()
	l.Debug("d")
	l.Info("i")
	l.Warn("w")
	l.Error("e")
	l.Log(ctx, slog.Level(2), "custom")
	l.Log(ctx, slog.Level(1000), "huge")
	l.Log(ctx, slog.Level(-1000), "tiny")
	lines := adapterLines(t, mem)
	for i, want := range []string{"debug", "info", "warn", "error", "info+2", "error+119", "debug-124"} {
		wantAt(t, lines[i], "log.level", want)
	}

	log2, mem2, _ := adapterLogger(t, pipelog.Config{Level: event.LevelWarn})
	h2 := pipelogslog.NewHandler(log2, pipelogslog.Config{Level: slog.LevelError})
	if h2.Enabled(ctx, slog.LevelWarn) || !h2.Enabled(ctx, slog.LevelError) {
		t.Error("SlogOptions.Level not applied")
	}
	if pipelogslog.NewHandler(log2, pipelogslog.Config{}).Enabled(ctx, slog.LevelInfo) {
		t.Error("Logger level not applied")
	}
	slog.New(h2).Warn("dropped")
	if n := len(mem2.Lines()); n != 0 {
		t.Errorf("%d lines written below the level", n)
	}
}

func TestSlogContextAndCaller(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{Caller: true})
	l := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	ctx = logctx.WithLabel(ctx, "run", "r1")
	l.InfoContext(ctx, "hello", "labels.team", "data")
	l.Info("no context")
	lines := adapterLines(t, mem)
	wantAt(t, lines[0], "trace.id", "4bf92f3577b34da6a3ce929d0e0e4736")
	wantAt(t, lines[0], "span.id", "00f067aa0ba902b7")
	wantAt(t, lines[0], "labels.run", "r1")
	wantAt(t, lines[0], "labels.team", "data")
	if f, _ := at(lines[0], "log.origin.file.name").(string); !strings.HasSuffix(f, "pipelogslog/handler_test.go") {
		t.Errorf("log.origin.file.name = %q", f)
	}
	if f, _ := at(lines[0], "log.origin.function").(string); !strings.HasSuffix(f, "TestSlogContextAndCaller") {
		t.Errorf("log.origin.function = %q", f)
	}
	wantAbsent(t, lines[1], "trace")

	log2, mem2, _ := adapterLogger(t, pipelog.Config{})
	slog.New(pipelogslog.NewHandler(log2, pipelogslog.Config{})).Info("no caller")
	wantAbsent(t, adapterLines(t, mem2)[0], "log.origin")
}

func TestSlogHandlersAreImmutable(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	base := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	a := base.With("a", 1)
	g := a.WithGroup("g")
	b := g.With("b", 2)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				b.Info("m", "i", i, "j", j)
				a.Info("m")
				g.Info("m")
			}
		}()
	}
	wg.Wait()
	for _, m := range adapterLines(t, mem) {
		wantAt(t, m, "Pipelog.Attrs.a", "1")
		if at(m, "Pipelog.Attrs.g.i") == nil {
			wantAbsent(t, m, "Pipelog.Attrs.g") // a and g lines: the empty group is left out
		} else {
			wantAt(t, m, "Pipelog.Attrs.g.b", "2")
		}
	}
}

type logValuer struct{}

func (logValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", "u-1"), slog.Int("n", 2))
}

type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("no JSON today") }

func TestSlogValueKinds(t *testing.T) {
	log, mem, errs := adapterLogger(t, pipelog.Config{})
	l := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	l.Info("kinds",
		"s", "x\n\"y\"", "i", -3, "u", uint64(1<<63), "f", 1.5, "nan", 0/func() float64 { return 0 }(),
		"b", true, "d", time.Second, "t", time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		"v", logValuer{}, "m", map[string]int{"k": 1}, "sl", []int{1, 2}, "bad", badJSON{},
		"nil", nil, "bytes", []byte("hi"),
	)
	m := adapterLines(t, mem)[0]
	wantAt(t, m, "Pipelog.Attrs.s", "x\n\"y\"")
	wantAt(t, m, "Pipelog.Attrs.i", "-3")
	wantAt(t, m, "Pipelog.Attrs.u", "9223372036854775808")
	wantAt(t, m, "Pipelog.Attrs.f", "1.5")
	wantAt(t, m, "Pipelog.Attrs.b", "true")
	wantAt(t, m, "Pipelog.Attrs.d", "1000000000")
	wantAt(t, m, "Pipelog.Attrs.t", "2026-01-02T03:04:05.000006Z")
	wantAt(t, m, "Pipelog.Attrs.v.id", "u-1")
	wantAt(t, m, "Pipelog.Attrs.m.k", "1")
	wantAt(t, m, "Pipelog.Attrs.bytes", "aGk=")
	if v, ok := at(m, "Pipelog.Attrs").(map[string]any); !ok || v["nan"] != nil || v["bad"] != nil {
		t.Errorf("nan/bad: %#v", v)
	}
	// The MarshalJSON failure is noted in the line, as for typed events.
	if n := fmt.Sprint(at(m, "Pipelog.encode_errors")); !strings.Contains(n, "Pipelog.Attrs.bad") || !strings.Contains(n, "no JSON today") {
		t.Errorf("encode_errors = %v, want the MarshalJSON failure", n)
	}
	if len(errs()) != 0 {
		t.Errorf("OnError got %v", errs())
	}
}

func TestSlogNilLogger(t *testing.T) {
	var log *pipelog.Logger
	h := pipelogslog.NewHandler(log, pipelogslog.Config{})
	if h.Enabled(context.Background(), slog.LevelError) {
		t.Error("nil Logger enabled")
	}
	slog.New(h).With("a", 1).WithGroup("g").Error("dropped") // must not panic
}

func TestAllocSlogHandle(t *testing.T) {
	skipIfRace(t)
	log2, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{sink.NewWriter(discard{}, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	l := slog.New(pipelogslog.NewHandler(log2, pipelogslog.Config{})).With("tenant", "acme")
	ctx := context.Background()
	attrs := []slog.Attr{slog.String("url.path", "/o"), slog.Int("items", 3), slog.Bool("retry", true), slog.String("k", "v")}
	n := testing.AllocsPerRun(200, func() { l.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) })
	if n > 0 {
		t.Errorf("%v allocations per record, want 0", n)
	}
	// With log.origin from the record's PC too.
	log3, err := pipelog.New(pipelog.Config{Service: "s", Caller: true, Sinks: []sink.Sink{sink.NewWriter(discard{}, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	l3 := slog.New(pipelogslog.NewHandler(log3, pipelogslog.Config{}))
	if n := testing.AllocsPerRun(200, func() { l3.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) }); n > 0 {
		t.Errorf("%v allocations per record with Caller, want 0", n)
	}
}

type discard = testlog.Discard

var skipIfRace = testlog.SkipUnderRace

// TestSlogRandomAttrsStayConformant throws random mixes of colliding keys,
// dotted keys, groups, ECS names and labels at the handler: every line must
// pass the conformance check (no duplicate key, no dotted custom key, ECS
// types right).
func TestSlogRandomAttrsStayConformant(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	keys := []string{"a", "a.b", "b", "", ".", "a.", "labels.x", "labels", "url.path", "url", "http.response.bytes", "g", "message", "err", "\xff", "\xfe", "\ufffd"}
	vals := []any{"s", 1, 2.5, true, time.Second, errors.New("e"), nil, []string{"x"}, map[string]any{"k.k": 1}}
	seed := uint64(1)
	rnd := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	var attr func(depth int) slog.Attr
	attr = func(depth int) slog.Attr {
		k := keys[rnd(len(keys))]
		if depth < 2 && rnd(4) == 0 {
			var as []any
			for range rnd(4) {
				as = append(as, attr(depth+1))
			}
			return slog.Group(k, as...)
		}
		return slog.Any(k, vals[rnd(len(vals))])
	}
	base := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	for range 2000 {
		l := base
		for range rnd(3) {
			if rnd(2) == 0 {
				l = l.WithGroup(keys[rnd(len(keys))])
			} else {
				l = l.With(attr(0))
			}
		}
		var as []slog.Attr
		for range rnd(8) {
			as = append(as, attr(0))
		}
		l.LogAttrs(context.Background(), slog.LevelInfo, "m", as...)
	}
	adapterLines(t, mem)
}

// TestSlogAttrDoesNotReplaceLoggerField: a field fixed with Logger.With
// stays; an attribute with its name is kept under Pipelog.Attrs rather
// than dropped.
func TestSlogAttrDoesNotReplaceLoggerField(t *testing.T) {
	log, mem, _ := adapterLogger(t, pipelog.Config{})
	log = log.With(pipelog.Field{Key: "url.path", Value: "/fixed"})
	slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{})).Info("m", "url.path", "/attr")
	m := adapterLines(t, mem)[0]
	wantAt(t, m, "url.path", "/fixed")
	wantAt(t, m, "Pipelog.Attrs.url.path", "/attr")
}
