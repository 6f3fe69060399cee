package pipelog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/sink"
)

// ItemProcessed is a job's own event in these tests.
type ItemProcessed struct {
	event.Base
	N int `json:"n"`
}

func newJobLogger(t *testing.T, sinks ...sink.Sink) (*Logger, *memsink.Sink) {
	t.Helper()
	mem := &memsink.Sink{}
	log, err := New(Config{Service: "jobtest", Sinks: append([]sink.Sink{mem}, sinks...), Level: event.LevelDebug,
		OnError: func(error) {}})
	if err != nil {
		t.Fatal(err)
	}
	return log, mem
}

// decoded parses every line of mem (checking conformance first).
func decodeLines(t *testing.T, mem *memsink.Sink) []map[string]any {
	t.Helper()
	conformance.RequireConformant(t, mem.Bytes())
	var out []map[string]any
	for _, l := range mem.Lines() {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, m)
	}
	return out
}

// get walks a dotted path through nested objects (and top-level dotted keys).
func lineField(m map[string]any, path string) any {
	if v, ok := m[path]; ok {
		return v
	}
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[p]
	}
	return cur
}

func lineAction(m map[string]any) string { s, _ := lineField(m, "event.action").(string); return s }

// checkRun asserts the common shape of a run's events: first JobStarted,
// last the end event; one trace.id (the run ID) and worker on all.
func checkRun(t *testing.T, lines []map[string]any, endAction, outcome string, code int) map[string]any {
	t.Helper()
	if len(lines) < 2 {
		t.Fatalf("%d lines, want >= 2", len(lines))
	}
	first, last := lines[0], lines[len(lines)-1]
	if lineAction(first) != "JobStarted" || lineAction(last) != endAction {
		t.Fatalf("first %q last %q, want JobStarted … %s", lineAction(first), lineAction(last), endAction)
	}
	runID, _ := lineField(first, "Pipelog.JobStarted.run_id").(string)
	if !logctx.ValidTraceID(runID) {
		t.Fatalf("run_id %q is not a trace-id", runID)
	}
	for i, l := range lines {
		if lineField(l, "trace.id") != runID {
			t.Errorf("line %d: trace.id %v, want run ID %s", i, lineField(l, "trace.id"), runID)
		}
		if lineField(l, "process.thread.name") == nil {
			t.Errorf("line %d: no process.thread.name", i)
		}
	}
	for k, want := range map[string]any{
		"event.kind": "event", "event.outcome": outcome, "event.category": []any{"process"}, "event.type": []any{"end"},
	} {
		if got := lineField(last, k); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("end event %s = %v, want %v", k, got, want)
		}
	}
	if fmt.Sprint(lineField(first, "event.type")) != "[start]" || lineField(first, "event.outcome") != "unknown" {
		t.Errorf("start event type/outcome: %v %v", lineField(first, "event.type"), lineField(first, "event.outcome"))
	}
	if d, ok := lineField(last, "event.duration").(float64); !ok || d <= 0 {
		t.Errorf("event.duration = %v", lineField(last, "event.duration"))
	}
	if lineField(last, "event.start") == nil || lineField(last, "event.end") == nil {
		t.Errorf("event.start/end missing: %v", last)
	}
	if code != 0 {
		if got, _ := lineField(last, "process.exit_code").(float64); int(got) != code {
			t.Errorf("process.exit_code = %v, want %d", lineField(last, "process.exit_code"), code)
		}
	}
	return last
}

func TestRunJobSuccess(t *testing.T) {
	log, mem := newJobLogger(t)
	var seen string
	code := RunJob(context.Background(), log, Job{Name: "ok-job", Run: func(ctx context.Context) error {
		seen = logctx.CorrelationID(ctx)
		v := logctx.From(ctx)
		if v.TraceID != seen || v.TraceFlags&logctx.FlagSampled == 0 || v.SpanID == "" || v.TransactionID != v.SpanID {
			t.Errorf("run context values: %+v", v)
		}
		Emit(ctx, log, ItemProcessed{Base: event.Info("item"), N: 1})
		return nil
	}, Labels: []event.Label{{Key: "tenant", Value: "acme"}}})
	if code != ExitOK {
		t.Fatalf("exit code %d", code)
	}
	lines := decodeLines(t, mem)
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	last := checkRun(t, lines, "JobSucceeded", "success", 0)
	if lineField(last, "trace.id") != seen || lineField(lines[1], "labels.tenant") != "acme" || lineField(lines[1], "process.thread.name") != "ok-job" {
		t.Errorf("correlation/labels/worker: %v / %v", seen, lines[1])
	}
	if lineField(last, "Pipelog.JobSucceeded.job") != "ok-job" || lineField(last, "log.level") != "info" {
		t.Errorf("end event: %v", last)
	}
	// The Logger is closed when RunJob returns.
	Emit(context.Background(), log, ItemProcessed{Base: event.Info("late")})
	if log.Stats().Dropped != 1 {
		t.Errorf("logger not closed: %+v", log.Stats())
	}
}

var errDB = errors.New("db unreachable")

func TestRunJobFailure(t *testing.T) {
	log, mem := newJobLogger(t)
	code := RunJob(context.Background(), log, Job{Name: "fail-job", Run: func(ctx context.Context) error {
		return errors.Join(fmt.Errorf("load orders: %w", errDB), errors.New("second problem"))
	}})
	if code != ExitFailure {
		t.Fatalf("exit code %d", code)
	}
	last := checkRun(t, decodeLines(t, mem), "JobFailed", "failure", ExitFailure)
	msg, _ := lineField(last, "error.message").(string)
	if !strings.Contains(msg, "load orders: db unreachable") || !strings.Contains(msg, "second problem") {
		t.Errorf("error.message = %q", msg)
	}
	if lineField(last, "log.level") != "error" || lineField(last, "error.type") == nil {
		t.Errorf("end event: %v", last)
	}
}

type notAnError struct{ Code int }

func TestRunJobPanicNonError(t *testing.T) {
	log, mem := newJobLogger(t)
	code := RunJob(context.Background(), log, Job{Name: "panic-job", Run: func(ctx context.Context) error {
		panic(notAnError{Code: 7})
	}})
	if code != ExitPanic {
		t.Fatalf("exit code %d", code)
	}
	last := checkRun(t, decodeLines(t, mem), "JobPanicked", "failure", ExitPanic)
	if msg, _ := lineField(last, "error.message").(string); msg != "panic: {7}" {
		t.Errorf("error.message = %q", msg)
	}
	if st, _ := lineField(last, "error.stack_trace").(string); !strings.Contains(st, "TestRunJobPanicNonError") {
		t.Errorf("error.stack_trace lacks the panicking function:\n%s", st)
	}
}

func TestRunJob100kEventsAllDelivered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.ndjson")
	file, err := sink.NewFile(path, sink.FileConfig{})
	if err != nil {
		t.Fatal(err)
	}
	log, mem := newJobLogger(t, file)
	const n = 100_000
	code := RunJob(context.Background(), log, Job{Name: "bulk", Run: func(ctx context.Context) error {
		for i := range n {
			Emit(ctx, log, ItemProcessed{Base: event.Debug("item"), N: i})
		}
		return nil
	}})
	if code != ExitOK {
		t.Fatalf("exit code %d", code)
	}
	if got := len(mem.Lines()); got != n+2 {
		t.Errorf("memsink has %d lines, want %d", got, n+2)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		lines++
	}
	if lines != n+2 {
		t.Errorf("file sink has %d lines, want %d (not flushed?)", lines, n+2)
	}
	// Every line has the same shape: checking 1,000 of them (with the start
	// and end events) is as strong as checking 100k, at a fraction of the
	// cost under -race.
	all := mem.Lines()
	sample := append(all[:1000:1000], all[len(all)-1])
	conformance.RequireConformant(t, bytes.Join(sample, nil))
}

func TestRunJobParentContextCancelled(t *testing.T) {
	log, mem := newJobLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	code := RunJob(ctx, log, Job{Name: "parent", Run: func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}})
	if code != ExitFailure {
		t.Fatalf("exit code %d", code)
	}
	last := checkRun(t, decodeLines(t, mem), "JobInterrupted", "failure", ExitFailure)
	if r, _ := lineField(last, "event.reason").(string); !strings.Contains(r, "parent context") {
		t.Errorf("event.reason = %q", r)
	}
}

func TestRunJobRunID(t *testing.T) {
	log, mem := newJobLogger(t)
	RunJob(context.Background(), log, Job{Name: "given-id", Run: func(ctx context.Context) error { return nil }, RunID: "sched-42", Worker: "w1", IgnoreSignals: true})
	lines := decodeLines(t, mem)
	if lineField(lines[0], "Pipelog.JobStarted.run_id") != "sched-42" || lineField(lines[0], "process.thread.name") != "w1" {
		t.Errorf("start: %v", lines[0])
	}
	// A run ID that is not a trace-id stays the correlation ID (written as
	// labels.correlation_id next to a minted trace.id).
	if tid, _ := lineField(lines[0], "trace.id").(string); !logctx.ValidTraceID(tid) {
		t.Errorf("trace.id %q", tid)
	}
}

// Nil loggers are allowed (events are discarded).
func TestRunJobNilLogger(t *testing.T) {
	if code := RunJob(context.Background(), nil, Job{Name: "nil", Run: func(context.Context) error { return nil }}); code != 0 {
		t.Fatal(code)
	}
}

// ExampleRunJob wraps a batch job's entrypoint: run ID as trace.id on every
// event, start/end events, signals to cancellation, sinks flushed and closed,
// and the exit code for os.Exit.
func ExampleRunJob() {
	log, err := New(Config{Service: "orders-etl"})
	if err != nil {
		panic(err)
	}
	code := RunJob(context.Background(), log, Job{Name: "import-orders", Run: func(ctx context.Context) error {
		// ... the job; emit with ctx so events carry the run's trace.id:
		Emit(ctx, log, ItemProcessed{Base: event.Info("order imported"), N: 1})
		return nil
	}, GracePeriod: 30 * time.Second, FlushTimeout: 5 * time.Second})
	os.Exit(code)
}
