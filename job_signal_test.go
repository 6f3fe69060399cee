//go:build unix

package pipelog

import (
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// These tests send real signals to the test process. They pass only because
// RunJob installs its handlers before the job starts and keeps them until it
// returns; without them the first SIGTERM would kill the test binary.

func killSelf(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
}

// signalSeen installs testHookSignal and returns a channel that receives
// each signal RunJob has acted on.
func signalSeen(t *testing.T) <-chan os.Signal {
	ch := make(chan os.Signal, 8)
	testHookSignal = func(s os.Signal) { ch <- s }
	t.Cleanup(func() { testHookSignal = nil })
	return ch
}

func TestRunJobSIGTERM(t *testing.T) {
	log, mem := newJobLogger(t)
	code := RunJob(context.Background(), log, Job{Name: "term", Run: func(ctx context.Context) error {
		Emit(ctx, log, ItemProcessed{Base: event.Info("working")})
		killSelf(t, syscall.SIGTERM)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			t.Error("SIGTERM did not cancel the job's context")
			return nil
		}
	}})
	if code != ExitSIGTERM {
		t.Fatalf("exit code %d, want %d", code, ExitSIGTERM)
	}
	last := checkRun(t, decodeLines(t, mem), "JobInterrupted", "failure", ExitSIGTERM)
	if lineField(last, "Pipelog.JobInterrupted.signal") != "SIGTERM" || lineField(last, "Pipelog.JobInterrupted.abandoned") != nil {
		t.Errorf("end event: %v", last)
	}
	if r, _ := lineField(last, "event.reason").(string); r != "SIGTERM received; the job stopped" {
		t.Errorf("event.reason = %q", r)
	}
	if lineField(last, "error.message") != "context canceled" || lineField(last, "log.level") != "warn" {
		t.Errorf("end event: %v", last)
	}
}

func TestRunJobSIGINT(t *testing.T) {
	log, mem := newJobLogger(t)
	code := RunJob(context.Background(), log, Job{Name: "int", Run: func(ctx context.Context) error {
		killSelf(t, syscall.SIGINT)
		<-ctx.Done()
		return nil // a job that stops cleanly is still reported interrupted
	}})
	if code != ExitSIGINT {
		t.Fatalf("exit code %d, want %d", code, ExitSIGINT)
	}
	checkRun(t, decodeLines(t, mem), "JobInterrupted", "failure", ExitSIGINT)
}

func TestRunJobIgnoresCancellation(t *testing.T) {
	log, mem := newJobLogger(t)
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	code := RunJob(context.Background(), log, Job{Name: "stubborn", Run: func(ctx context.Context) error {
		killSelf(t, syscall.SIGTERM)
		<-release // ignores ctx
		return nil
	}, GracePeriod: 200 * time.Millisecond})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("RunJob took %v with a 200ms grace period", el)
	}
	if code != ExitSIGTERM {
		t.Fatalf("exit code %d", code)
	}
	last := checkRun(t, decodeLines(t, mem), "JobInterrupted", "failure", ExitSIGTERM)
	if lineField(last, "Pipelog.JobInterrupted.abandoned") != true {
		t.Errorf("not reported abandoned: %v", last)
	}
	if r, _ := lineField(last, "event.reason").(string); !strings.Contains(r, "did not stop within 200ms") {
		t.Errorf("event.reason = %q", r)
	}
}

func TestRunJobSecondSignalAbandonsJob(t *testing.T) {
	seen := signalSeen(t)
	log, mem := newJobLogger(t)
	release := make(chan struct{})
	defer close(release)
	code := RunJob(context.Background(), log, Job{Name: "stubborn2", Run: func(ctx context.Context) error {
		killSelf(t, syscall.SIGTERM)
		<-seen // RunJob has it: the next one is not coalesced with it
		killSelf(t, syscall.SIGINT)
		<-release
		return nil
	}, GracePeriod: time.Minute})
	if code != ExitSIGTERM {
		t.Fatalf("exit code %d", code)
	}
	last := checkRun(t, decodeLines(t, mem), "JobInterrupted", "failure", ExitSIGTERM)
	if r, _ := lineField(last, "event.reason").(string); !strings.Contains(r, "second signal") {
		t.Errorf("event.reason = %q", r)
	}
}

// slowSink blocks in Close until its context ends (an unreachable remote
// sink, say), after calling onClose.
type slowSink struct {
	onClose  func()
	once     sync.Once
	ctxEnded chan struct{}
}

func (s *slowSink) Write([]byte) error              { return nil }
func (s *slowSink) Flush(ctx context.Context) error { return nil }
func (s *slowSink) Close(ctx context.Context) error {
	s.once.Do(s.onClose)
	<-ctx.Done()
	close(s.ctxEnded)
	return ctx.Err()
}

// A signal while RunJob flushes after a normal end: the exit code stays,
// the flush keeps its deadline, RunJob returns, the process lives.
func TestRunJobSIGTERMDuringFlush(t *testing.T) {
	seen := signalSeen(t)
	slow := &slowSink{ctxEnded: make(chan struct{}), onClose: func() { killSelf(t, syscall.SIGTERM); <-seen }}
	var errs []error
	var mu sync.Mutex
	mem := &sinkRecorder{}
	log, err := New(Config{Service: "jobtest", Sinks: []sink.Sink{mem, slow}, OnError: func(e error) { mu.Lock(); errs = append(errs, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := RunJob(context.Background(), log, Job{Name: "flushing", Run: func(ctx context.Context) error { return nil }, FlushTimeout: 300 * time.Millisecond})
	el := time.Since(start)
	if code != ExitOK {
		t.Errorf("exit code %d, want 0: the job had finished", code)
	}
	if el < 300*time.Millisecond || el > 5*time.Second {
		t.Errorf("RunJob returned after %v; want the 300ms flush deadline", el)
	}
	<-slow.ctxEnded
	mu.Lock()
	defer mu.Unlock()
	// Either the sink's own error (the deadline passed) or, when the
	// machine is so loaded that the sink's return comes after RunJob's hard
	// stop, RunJob's: both say the flush was cut at its deadline.
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "deadline exceeded") &&
		!strings.Contains(errs[0].Error(), "ignored the flush deadline") {
		t.Errorf("flush error not reported: %v", errs)
	}
}

// The second signal of a run, arriving during the flush, cuts it short.
func TestRunJobSecondSIGTERMDuringFlush(t *testing.T) {
	seen := signalSeen(t)
	slow := &slowSink{ctxEnded: make(chan struct{}), onClose: func() { killSelf(t, syscall.SIGTERM) }}
	log, err := New(Config{Service: "jobtest", Sinks: []sink.Sink{slow}, OnError: func(error) {}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := RunJob(context.Background(), log, Job{Name: "flushing2", Run: func(ctx context.Context) error {
		killSelf(t, syscall.SIGTERM)
		<-seen
		<-ctx.Done()
		return ctx.Err()
	}, FlushTimeout: time.Minute})
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("RunJob returned after %v; the second signal should cut the 1m flush short", el)
	}
	if code != ExitSIGTERM {
		t.Errorf("exit code %d", code)
	}
	<-slow.ctxEnded
}

// A sink that ignores its context does not hold RunJob past the deadline.
type deafSink struct{ release chan struct{} }

func (s *deafSink) Write([]byte) error          { return nil }
func (s *deafSink) Flush(context.Context) error { return nil }
func (s *deafSink) Close(context.Context) error { <-s.release; return nil }

func TestRunJobSinkIgnoringDeadline(t *testing.T) {
	deaf := &deafSink{release: make(chan struct{})}
	defer close(deaf.release)
	log, err := New(Config{Service: "jobtest", Sinks: []sink.Sink{deaf}, OnError: func(error) {}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	RunJob(context.Background(), log, Job{Name: "deaf", Run: func(ctx context.Context) error { return nil }, FlushTimeout: 100 * time.Millisecond})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("RunJob returned after %v", el)
	}
}

// sinkRecorder is a trivial in-memory sink (memsink closes on Close; this
// one too, but is local to keep the test self-contained).
type sinkRecorder struct {
	mu sync.Mutex
	n  int
}

func (s *sinkRecorder) Write([]byte) error          { s.mu.Lock(); s.n++; s.mu.Unlock(); return nil }
func (s *sinkRecorder) Flush(context.Context) error { return nil }
func (s *sinkRecorder) Close(context.Context) error { return nil }
