package pipelog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// Exit codes returned by RunJob, for os.Exit. A run stopped by a signal
// follows the shell convention 128 + signal number.
const (
	ExitOK      = 0   // the job returned nil
	ExitFailure = 1   // the job returned an error, or the parent context ended first
	ExitPanic   = 2   // the job panicked (the code the Go runtime uses for an unrecovered panic)
	ExitLost    = 3   // the job returned nil but events of the run were not delivered (Job.AllowLoss)
	ExitSIGINT  = 130 // interrupted by SIGINT (128+2)
	ExitSIGTERM = 143 // interrupted by SIGTERM (128+15)
)

// Defaults of a Job's durations.
const (
	DefaultJobGracePeriod  = 10 * time.Second
	DefaultJobFlushTimeout = 10 * time.Second
)

// Job is one batch-job run for RunJob: Name and Run are required, every
// other field has a documented zero value.
type Job struct {
	// Name names the job (Pipelog.<Event>.job, and the default worker).
	Name string
	// Run is the job itself; it receives the run's context (see RunJob).
	Run func(ctx context.Context) error

	// GracePeriod is how long the job may take to return once its context
	// was cancelled (by a signal or the parent context) before RunJob stops
	// waiting, reports it abandoned and returns (0: DefaultJobGracePeriod).
	GracePeriod time.Duration
	// FlushTimeout is the deadline for flushing and closing the Logger's
	// sinks after the job ended (0: DefaultJobFlushTimeout).
	FlushTimeout time.Duration
	// Signals interrupt the run (nil: SIGINT and SIGTERM). IgnoreSignals
	// installs no signal handler at all.
	Signals       []os.Signal
	IgnoreSignals bool
	// Worker names the worker (process.thread.name) of the run's events
	// ("": the job's name).
	Worker string
	// Labels are added to every event of the run.
	Labels []event.Label
	// AllowLoss keeps ExitOK for a job that returned nil even when events
	// of the run were dropped, dead-lettered or left undelivered at Close
	// (by default RunJob returns ExitLost then). The last line says so
	// either way.
	AllowLoss bool
	// Report is where RunJob writes its last line when events of the run
	// were not delivered: how many, and where they went (nil: standard
	// error). The Logger is closed by then, so this line is not an event.
	Report io.Writer

	// RunID is used as the run ID instead of minting one (a scheduler's
	// execution ID, say). It must be a valid correlation ID
	// (logctx.ValidID); when it is also a valid W3C trace-id it is the trace
	// ID too, otherwise a trace ID is minted. An invalid RunID is ignored.
	RunID string
}

type jobConfig struct {
	grace   time.Duration
	flush   time.Duration
	signals []os.Signal
	worker  string
	labels  []event.Label
	runID   string
}

// testHookSignal, when set by a test, is called with each signal RunJob
// receives, after it acted on it.
var testHookSignal func(os.Signal)

// RunJob runs job as one batch-job run and returns the exit code for
// os.Exit (ExitOK, ExitFailure, ExitPanic, ExitLost, or 128+signal:
// ExitSIGINT, ExitSIGTERM):
//
//	func main() {
//		log, err := pipelog.New(pipelog.Config{Service: "orders-etl"})
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(pipelog.ExitFailure)
//		}
//		os.Exit(pipelog.RunJob(context.Background(), log, pipelog.Job{Name: "import-orders", Run: importOrders}))
//	}
//
// The run:
//
//   - gets a run ID, a fresh W3C trace-id (logctx.NewCorrelationID) that is
//     both the correlation ID and the trace ID of the context job receives,
//     so every event of the run has trace.id = run ID (unless an
//     OpenTelemetry span in ctx supplies the trace, see package logctx). The
//     run has its own span ID (span.id and transaction.id). The worker
//     name (default: name) and labels are in the context too; read the run ID
//     back with logctx.CorrelationID(ctx). Outgoing calls (logctx.Transport,
//     logctx.Inject) carry the run ID as trace ID and correlation ID.
//   - emits event.JobStarted, then exactly one of event.JobSucceeded,
//     JobFailed (the error in error.*), JobPanicked (recovered; the stack in
//     error.stack_trace) or JobInterrupted, with event.start, event.end and
//     event.duration.
//   - turns the signals (default SIGINT, SIGTERM) into cancellation of the
//     job's context, with handlers installed before the job starts and
//     removed before RunJob returns. A job that has not returned a grace
//     period (Job.GracePeriod) after its context was cancelled is abandoned:
//     JobInterrupted says so and RunJob returns while the job goroutine is
//     still running (its later events are dropped, as the Logger is closed).
//     A second signal stops the waiting at once. The exit code of a signalled
//     run is 128+signal even when the job then returned nil, because its
//     work was cut short. The parent context ending is an interruption too,
//     with ExitFailure.
//   - always closes log (flushing every sink) within the flush timeout
//     (Job.FlushTimeout) before returning, also after a panic or a signal;
//     a signal during the flush does not change the exit code, but the
//     second signal of a run cuts the flush short, and RunJob never waits
//     past the flush timeout even for a sink that ignores its context.
//     Flush errors are reported to the Logger's OnError (or standard error);
//     they do not change the exit code.
//   - then counts the events of the run that were not delivered: dropped,
//     dead-lettered or left undelivered by a sink (sink.Losses), refused by
//     every sink, or emitted after Close. If there are any, its last line
//     (to Job.Report) says how many and where they went, and a job that
//     returned nil gets ExitLost instead of ExitOK (unless Job.AllowLoss).
//     The end event was written before the sinks were closed and cannot say
//     this; the line and the exit code do. A failure, panic or signal keeps
//     its own exit code.
//
// job runs on its own goroutine: a panic is recovered only on that
// goroutine, not on goroutines the job starts.
func RunJob(ctx context.Context, log *Logger, job Job) (exitCode int) {
	cfg := jobConfig{grace: job.GracePeriod, flush: job.FlushTimeout, signals: job.Signals,
		worker: job.Worker, labels: job.Labels, runID: job.RunID}
	name := job.Name
	if cfg.grace <= 0 {
		cfg.grace = DefaultJobGracePeriod
	}
	if cfg.flush <= 0 {
		cfg.flush = DefaultJobFlushTimeout
	}
	if cfg.signals == nil {
		cfg.signals = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	if job.IgnoreSignals {
		cfg.signals = nil
	}
	if cfg.worker == "" {
		cfg.worker = name
	}
	if ctx == nil {
		ctx = context.Background()
	}
	run := job.Run
	if run == nil {
		run = func(context.Context) error { return errors.New("pipelog: RunJob: Job.Run is nil") }
	}

	// Signals first, so that none arriving from here on kills the process.
	var sigCh chan os.Signal
	if len(cfg.signals) > 0 {
		sigCh = make(chan os.Signal, 4)
		signal.Notify(sigCh, cfg.signals...)
		defer signal.Stop(sigCh)
	}

	lost0 := log.losses()
	runCtx, runID := startRun(ctx, &cfg)
	jobCtx, cancel := context.WithCancel(runCtx)
	defer cancel()

	start := time.Now()
	Emit(runCtx, log, event.JobStarted{
		Base:    event.Info("job " + name + " started"),
		JobInfo: event.NewJobInfo(name, runID, start, time.Time{}, "", 0),
	})

	type result struct {
		err   error
		panic *event.PanicError
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if p := recover(); p != nil {
				res.panic = event.NewPanicError(p)
			}
			done <- res
		}()
		res.err = run(jobCtx)
	}()

	var (
		res       result
		returned  bool
		signals   int
		firstSig  os.Signal
		parentErr error
		graceC    <-chan time.Time
	)
	parentDone := ctx.Done()
	interrupt := func() {
		cancel()
		if graceC == nil {
			graceC = time.After(cfg.grace)
		}
	}
wait:
	for {
		select {
		case res = <-done:
			returned = true
			// The parent's cancellation reaches the job's context directly:
			// the job may return before this loop saw parentDone.
			if firstSig == nil && parentErr == nil && ctx.Err() != nil {
				parentErr = context.Cause(ctx)
			}
			break wait
		case sig := <-sigCh:
			signals++
			if firstSig == nil {
				firstSig = sig
			}
			interrupt()
			if testHookSignal != nil {
				testHookSignal(sig)
			}
			if signals >= 2 {
				break wait // a second signal: stop waiting for the job
			}
		case <-parentDone:
			parentDone = nil
			if firstSig == nil {
				parentErr = context.Cause(ctx)
			}
			interrupt()
		case <-graceC:
			break wait
		}
	}
	end := time.Now()

	// The end event.
	info := func(outcome string, code int) event.JobInfo {
		return event.NewJobInfo(name, runID, start, end, outcome, code)
	}
	switch {
	case returned && res.panic != nil:
		exitCode = ExitPanic
		Emit(runCtx, log, event.JobPanicked{
			Base:    event.Error("job " + name + " panicked").WithErr(res.panic),
			JobInfo: info(event.OutcomeFailure, exitCode),
		})
	case firstSig != nil || parentErr != nil:
		exitCode = ExitFailure
		what := "the parent context ended (" + errString(parentErr) + ")"
		sigName := ""
		if firstSig != nil {
			exitCode = signalExitCode(firstSig)
			sigName = signalName(firstSig)
			what = sigName + " received"
		}
		reason := what + "; the job stopped"
		if !returned {
			reason = fmt.Sprintf("%s; the job did not stop within %v and was abandoned", what, cfg.grace)
			if signals >= 2 {
				reason = what + "; the job was abandoned after a second signal"
			}
		}
		var err error
		if returned {
			err = res.err
		}
		Emit(runCtx, log, event.JobInterrupted{
			Base:      event.Warn("job " + name + " interrupted").WithReason(reason).WithErr(err),
			JobInfo:   info(event.OutcomeFailure, exitCode),
			Signal:    sigName,
			Abandoned: !returned,
		})
	case res.err != nil:
		exitCode = ExitFailure
		Emit(runCtx, log, event.JobFailed{
			Base:    event.Error("job " + name + " failed").WithErr(res.err),
			JobInfo: info(event.OutcomeFailure, exitCode),
		})
	default:
		exitCode = ExitOK
		Emit(runCtx, log, event.JobSucceeded{
			Base:    event.Info("job " + name + " succeeded"),
			JobInfo: info(event.OutcomeSuccess, exitCode),
		})
	}

	closed := closeWithin(log, cfg.flush, sigCh, &signals)
	if log == nil {
		return exitCode
	}
	lost := log.losses()
	lost.Dropped -= min(lost.Dropped, lost0.Dropped)
	lost.DeadLettered -= min(lost.DeadLettered, lost0.DeadLettered)
	lost.Undelivered -= min(lost.Undelivered, lost0.Undelivered)
	if lost.Total() == 0 {
		return exitCode
	}
	if exitCode == ExitOK && !job.AllowLoss {
		exitCode = ExitLost
	}
	w := job.Report
	if w == nil {
		w = os.Stderr
	}
	note := ""
	if !closed {
		note = " (closing did not finish: events still queued are not counted)"
	}
	fmt.Fprintf(w, "pipelog: job %s: %s%s; exit code %d\n", name, lost, note, exitCode)
	return exitCode
}

// losses are the Logger's undelivered events since New (zero for nil).
func (l *Logger) losses() sink.Losses {
	if l == nil {
		return sink.Losses{}
	}
	return l.h.C.Losses()
}

// startRun returns ctx carrying the run's correlation/trace values, worker
// and labels, and the run ID.
func startRun(ctx context.Context, cfg *jobConfig) (context.Context, string) {
	runID := cfg.runID
	if !logctx.ValidID(runID) {
		runID = logctx.NewCorrelationID()
	}
	traceID := runID
	if !logctx.ValidTraceID(traceID) {
		traceID = logctx.NewTraceID()
	}
	// StartTrace: a new root (sampled flag, no tracestate, a fresh span
	// that is also the transaction); then the run ID as its trace ID.
	ctx = logctx.StartTrace(ctx)
	ctx = logctx.WithCorrelationID(ctx, runID)
	ctx = logctx.WithTrace(ctx, traceID, logctx.SpanID(ctx))
	if cfg.worker != "" {
		ctx = logctx.WithWorker(ctx, cfg.worker)
	}
	if len(cfg.labels) > 0 {
		ctx = logctx.WithLabels(ctx, cfg.labels...)
	}
	return ctx, runID
}

// closeWithin closes log within timeout and reports whether Close
// returned. A signal arriving while it does (the run's second or later)
// cuts it short; a sink that ignores its context is not waited for past the
// timeout.
func closeWithin(log *Logger, timeout time.Duration, sigCh chan os.Signal, signals *int) bool {
	if log == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- log.Close(ctx) }()
	hard := time.NewTimer(timeout + 100*time.Millisecond)
	defer hard.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && !isOnlyLoss(err) {
				log.fail(fmt.Errorf("pipelog: RunJob: closing the logger: %w", err))
			}
			return true
		case sig := <-sigCh:
			*signals++
			if *signals >= 2 {
				cancel()
			}
			if testHookSignal != nil {
				testHookSignal(sig)
			}
		case <-hard.C:
			log.fail(fmt.Errorf("pipelog: RunJob: closing the logger: %w", errCloseAbandoned))
			return false
		}
	}
}

// isOnlyLoss reports whether err is nothing but a *sink.LossError, which
// RunJob reports in its last line instead.
func isOnlyLoss(err error) bool {
	var le *sink.LossError
	if !errors.As(err, &le) {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap()) == 1
	}
	return true
}

var errCloseAbandoned = errors.New("a sink ignored the flush deadline; not waiting for it")

func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitFailure
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return sig.String()
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
