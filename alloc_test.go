package pipelog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/sink"
)

// AllocEvent has a field of every kind Emit promises to write without an
// allocation.
type AllocEvent struct {
	event.Base
	Path    string `ecs:"url.path"`
	Method  string `ecs:"http.request.method"`
	Start   time.Time
	Elapsed time.Duration
	Items   int
	Amount  float64
	Retry   bool
	Tags    []string
	Cause   error
	Inner   struct {
		Step string
		N    int64
	}
	Ptr *int
}

var errAlloc = errors.New("credit limit exceeded")

func allocLogger(t *testing.T, cfg pipelog.Config) *pipelog.Logger {
	t.Helper()
	cfg.Service = "orders-etl"
	cfg.Sinks = []sink.Sink{sink.NewWriter(testlog.Discard{}, sink.WriterConfig{})}
	log, err := pipelog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// TestAllocEmit: Emit allocates nothing, enabled or disabled, on a root or
// derived Logger, with context values and with the caller. make test runs
// the Alloc tests without -race, where the counts mean something.
func TestAllocEmit(t *testing.T) {
	testlog.SkipUnderRace(t)
	n := 7
	ev := AllocEvent{Base: event.Warn("order rejected").WithErr(errAlloc).WithReason("credit"),
		Path: "/v1/orders", Method: "POST", Start: time.Now(), Elapsed: time.Second, Items: 3, Amount: 129.95,
		Retry: true, Tags: []string{"a", "b"}, Cause: errAlloc, Ptr: &n}
	ev.Inner.Step, ev.Inner.N = "load", 9
	ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	ctx = logctx.WithWorker(logctx.WithLabel(ctx, "pipeline", "orders"), "worker-3")

	root := allocLogger(t, pipelog.Config{Fields: []pipelog.Field{{Key: "cloud.region", Value: "eu-1"}}})
	derived := root.With(pipelog.Field{Key: "tenant", Value: "acme"}, pipelog.Field{Key: "cloud.availability_zone", Value: "eu-1a"})
	withCaller := allocLogger(t, pipelog.Config{Caller: true})
	disabled := allocLogger(t, pipelog.Config{Level: event.LevelError})
	for _, c := range []struct {
		name string
		log  *pipelog.Logger
	}{
		{"enabled", root},
		{"derived", derived},
		{"caller", withCaller},
		{"disabled", disabled},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(500, func() { pipelog.Emit(ctx, c.log, ev) }); got != 0 {
				t.Errorf("%v allocations per Emit, want 0", got)
			}
		})
	}
	t.Run("derived-per-call", func(t *testing.T) {
		// A Logger derived per request allocates in With, but its Emit
		// does not: the plans are shared with the root.
		d := root.With(pipelog.Field{Key: "user.id", Value: "u-1"})
		pipelog.Emit(ctx, d, ev)
		if got := testing.AllocsPerRun(500, func() { pipelog.Emit(ctx, d, ev) }); got != 0 {
			t.Errorf("%v allocations per Emit on a fresh derived Logger, want 0", got)
		}
	})
}

// TestAllocWith: deriving a Logger with a few fields, made per request or
// per unit of work, is two allocations: the Logger and one block holding
// its fields, labels and encoded values.
func TestAllocWith(t *testing.T) {
	testlog.SkipUnderRace(t)
	root := allocLogger(t, pipelog.Config{Fields: []pipelog.Field{{Key: "cloud.region", Value: "eu-1"}}})
	got := testing.AllocsPerRun(500, func() {
		root.With(pipelog.Field{Key: "tenant", Value: "acme"}, pipelog.Field{Key: "user.id", Value: "u-1"})
	})
	if got > 2 {
		t.Errorf("%v allocations per With of two fields, want at most 2", got)
	}
}

// AnyEvent has an any field, written by the value walker.
type AnyEvent struct {
	event.Base
	Detail any
}

// TestAllocAnyField: an any field holding a scalar (or a slice of strings)
// costs no allocation: the walker's path buffer is only made when a value
// has members (it used to be made for every any field on every line).
func TestAllocAnyField(t *testing.T) {
	testlog.SkipUnderRace(t)
	log := allocLogger(t, pipelog.Config{})
	ctx := context.Background()
	for _, v := range []any{42, "text", []string{"a", "b"}} {
		ev := AnyEvent{Base: event.Info("m"), Detail: v}
		if got := testing.AllocsPerRun(500, func() { pipelog.Emit(ctx, log, ev) }); got != 0 {
			t.Errorf("%T: %v allocations per Emit, want 0", v, got)
		}
	}
}
