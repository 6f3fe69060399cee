package pipelogtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/pipelogtest"
	"github.com/pipelog/pipelog/sink"
)

type RowRejected struct {
	event.Base
	Row  int      `json:"row"`
	Tags []string `json:"tags,omitempty"`
}

type RowLoaded struct {
	event.Base
	Row int `json:"row"`
}

// recorder is a testing.TB that records what a helper reports; FailNow
// ends the goroutine as testing's does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errs   []string
	failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) report() string { return strings.Join(r.errs, "\n") }

// run calls f with a recorder in its own goroutine (FailNow ends it).
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func emitSome(t *testing.T) *pipelogtest.Observer {
	t.Helper()
	obs := pipelogtest.NewObserver()
	log, err := pipelog.New(pipelog.Config{Service: "loader", Sinks: []sink.Sink{obs}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pipelog.Emit(ctx, log, RowLoaded{Base: event.Info("row loaded"), Row: 1})
	pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("row rejected").WithReason("amount: not positive"), Row: 2, Tags: []string{"a", "b"}})
	pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("row rejected").WithReason("no id"), Row: 3})
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return obs
}

func TestObserverDecodesAndFilters(t *testing.T) {
	obs := emitSome(t)
	evs := obs.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	if got := evs.Named("RowRejected"); len(got) != 2 || got[0].Get("Pipelog.RowRejected.row") != float64(2) {
		t.Errorf("Named: %v", got.Names())
	}
	if got := evs.AtLevel(event.LevelWarn); len(got) != 2 {
		t.Errorf("AtLevel(warn): %d", len(got))
	}
	if got := evs.AtLevel(event.LevelInfo); len(got) != 1 || got[0].Name() != "RowLoaded" || got[0].Message() != "row loaded" {
		t.Errorf("AtLevel(info): %v", got.Names())
	}
	if got := evs.Where("event.reason", "no id"); len(got) != 1 || got[0].Get("Pipelog.RowRejected.row") != float64(3) {
		t.Errorf("Where: %d", len(got))
	}
	if got := evs.Where("Pipelog.RowRejected.tags", []string{"a", "b"}); len(got) != 1 {
		t.Errorf("Where(tags): %d", len(got))
	}
	if got := evs.With("Pipelog.RowRejected.tags"); len(got) != 1 {
		t.Errorf("With: %d", len(got))
	}
	if e := evs[0]; e.Level() != "info" || !e.Has("log.level") || e.Has("no.such") || e.Get("service.name") != "loader" {
		t.Errorf("accessors: %s %v", e.Level(), e.Get("service.name"))
	}
	obs.Reset()
	if len(obs.Events()) != 0 {
		t.Error("Reset kept lines")
	}
}

func TestDecodeBadLines(t *testing.T) {
	for _, l := range []string{"not json\n", `{"a":1} {"b":2}` + "\n", "[1]\n"} {
		if e := pipelogtest.Decode([]byte(l)); e.Err == nil {
			t.Errorf("Decode(%q): no error", l)
		}
	}
	if e := pipelogtest.Decode([]byte(`{"log.level":"info","event":{"action":"X"}}`)); e.Err != nil || e.Level() != "info" || e.Name() != "X" {
		t.Errorf("dotted and nested: %+v", e)
	}
}

func TestAssertions(t *testing.T) {
	obs := emitSome(t)

	r := run(t, func(tb testing.TB) {
		e := pipelogtest.RequireEvent(tb, obs, "RowRejected", map[string]any{"event.reason": "no id", "Pipelog.RowRejected.row": 3})
		if e.Get("Pipelog.RowRejected.row") != float64(3) {
			tb.Errorf("wrong event")
		}
	})
	if r.failed || len(r.errs) != 0 {
		t.Errorf("RequireEvent failed on a matching event: %s", r.report())
	}

	r = run(t, func(tb testing.TB) {
		pipelogtest.RequireEvent(tb, obs, "RowRejected", map[string]any{"event.reason": "other", "Pipelog.RowRejected.missing": 1})
		tb.Errorf("RequireEvent returned")
	})
	if !r.failed || !strings.Contains(r.report(), `event.reason: "amount: not positive", want "other"`) ||
		!strings.Contains(r.report(), "Pipelog.RowRejected.missing: missing") || strings.Contains(r.report(), "returned") {
		t.Errorf("RequireEvent on a mismatch: failed=%v %s", r.failed, r.report())
	}

	r = run(t, func(tb testing.TB) {
		if _, ok := pipelogtest.AssertEvent(tb, obs, "JobStarted", nil); ok {
			tb.Errorf("found")
		}
	})
	if r.failed || !strings.Contains(r.report(), `no event "JobStarted" among 3`) {
		t.Errorf("AssertEvent on a missing name: %s", r.report())
	}

	r = run(t, func(tb testing.TB) { pipelogtest.AssertNoEvent(tb, obs, "RowRejected") })
	if len(r.errs) != 2 {
		t.Errorf("AssertNoEvent: %s", r.report())
	}
	r = run(t, func(tb testing.TB) { pipelogtest.AssertNoEvent(tb, obs, "JobStarted") })
	if len(r.errs) != 0 {
		t.Errorf("AssertNoEvent on none: %s", r.report())
	}
}

func TestCheckECS(t *testing.T) {
	obs := emitSome(t)
	r := run(t, func(tb testing.TB) {
		if !pipelogtest.CheckECS(tb, obs.Bytes()) {
			tb.Errorf("not ok")
		}
	})
	if len(r.errs) != 0 {
		t.Errorf("a Logger's lines: %s", r.report())
	}
	bad := []byte(`{"message":"no timestamp","log.level":"info"}` + "\n" + `{"@timestamp":"yesterday","log.level":"info","message":"m","ecs.version":"9.4.0"}` + "\n")
	r = run(t, func(tb testing.TB) {
		if pipelogtest.CheckECS(tb, bad) {
			tb.Errorf("ok")
		}
	})
	if !strings.Contains(r.report(), "line 1") || !strings.Contains(r.report(), "line 2") {
		t.Errorf("bad lines: %s", r.report())
	}
	r = run(t, func(tb testing.TB) { pipelogtest.CheckECS(tb, nil) })
	if len(r.errs) != 1 {
		t.Errorf("empty input: %s", r.report())
	}
}

func TestObserverClosed(t *testing.T) {
	obs := pipelogtest.NewObserver()
	_ = obs.Write([]byte("{}\n"))
	_ = obs.Close(context.Background())
	if err := obs.Write([]byte("{}\n")); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if len(obs.Lines()) != 1 {
		t.Errorf("lines: %d", len(obs.Lines()))
	}
}
