package event

import "time"

// Batch-job lifecycle events, written by pipelog.RunJob. They are ordinary
// typed events: applications that drive jobs their own way may emit them
// too, filling the fields themselves (the NewJob* constructors set the ECS
// categorisation).
//
// ECS mapping of JobInfo (embedded in every job event):
//
//	Kind      event.kind      always "event"
//	Category  event.category  ["process"]
//	Type      event.type      ["start"] for JobStarted, ["end"] for the others
//	Outcome   event.outcome   "unknown" (started), "success", "failure"
//	Start     event.start     when the run began
//	End       event.end       when the job function returned (or was given up on)
//	Duration  event.duration  End - Start, in nanoseconds (ECS long)
//	ExitCode  process.exit_code  the code the wrapper returns for os.Exit (end events)
//	Job       Pipelog.<Event>.job     the job's name
//	RunID     Pipelog.<Event>.run_id  the run ID; it is also trace.id (see RunJob)
//
// Base.Err of JobFailed/JobPanicked carries error.message, error.type and
// error.stack_trace; Base.Reason (event.reason) says why a run was interrupted.
type JobInfo struct {
	Kind     string        `ecs:"event.kind"`
	Category []string      `ecs:"event.category"`
	Type     []string      `ecs:"event.type"`
	Outcome  string        `ecs:"event.outcome"`
	Start    time.Time     `ecs:"event.start"`
	End      time.Time     `ecs:"event.end"`
	Duration time.Duration `ecs:"event.duration,omitempty"`
	ExitCode int           `ecs:"process.exit_code,omitempty"`
	Job      string        `json:"job"`
	RunID    string        `json:"run_id,omitempty"`
}

// Values of event.outcome (ECS allowed values).
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeUnknown = "unknown"
)

var (
	categoryProcess = []string{"process"}
	categoryWeb     = []string{"web"}
	typeStart       = []string{"start"}
	typeEnd         = []string{"end"}
	typeAccess      = []string{"access"}
	typeError       = []string{"error"}
	typeConnection  = []string{"connection"}
)

// NewJobInfo returns the JobInfo of a job event: start events (end is the
// zero time) get event.type ["start"] and outcome "unknown"; end events get
// ["end"], outcome, event.end and event.duration.
func NewJobInfo(job, runID string, start, end time.Time, outcome string, exitCode int) JobInfo {
	ji := JobInfo{Kind: "event", Category: categoryProcess, Job: job, RunID: runID, Start: start}
	if end.IsZero() {
		ji.Type, ji.Outcome = typeStart, OutcomeUnknown
		return ji
	}
	ji.Type, ji.Outcome, ji.End, ji.Duration, ji.ExitCode = typeEnd, outcome, end, end.Sub(start), exitCode
	return ji
}

// JobStarted is written when a job run begins (log level info).
type JobStarted struct {
	Base
	JobInfo
}

// JobSucceeded is written when the job function returned nil (info).
type JobSucceeded struct {
	Base
	JobInfo
}

// JobFailed is written when the job function returned an error (error); the
// error is Base.Err.
type JobFailed struct {
	Base
	JobInfo
}

// JobPanicked is written when the job function panicked (error); Base.Err is
// a *PanicError with the panic value and the stack.
type JobPanicked struct {
	Base
	JobInfo
}

// JobInterrupted is written when a run was cancelled by a signal (warn).
// Base.Reason says which signal and whether the job stopped in time; Signal
// is the signal's name ("SIGTERM"); Abandoned reports that the job ignored
// the cancellation past the grace period and was left running. Base.Err is
// what the job returned, if it returned.
type JobInterrupted struct {
	Base
	JobInfo
	Signal    string `json:"signal,omitempty"`
	Abandoned bool   `json:"abandoned,omitempty"`
}
