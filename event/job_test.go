package event_test

import (
	"testing"
	"time"

	"github.com/pipelog/pipelog/ecs"
	"github.com/pipelog/pipelog/event"
)

func TestJobAndHTTPEventsCheck(t *testing.T) {
	for name, err := range map[string]error{
		"JobStarted":                 ecs.Check[event.JobStarted](),
		"JobSucceeded":               ecs.Check[event.JobSucceeded](),
		"JobFailed":                  ecs.Check[event.JobFailed](),
		"JobPanicked":                ecs.Check[event.JobPanicked](),
		"JobInterrupted":             ecs.Check[event.JobInterrupted](),
		"HTTPRequestCompleted":       ecs.Check[event.HTTPRequestCompleted](),
		"HTTPHandlerPanicked":        ecs.Check[event.HTTPHandlerPanicked](),
		"HTTPClientRequestCompleted": ecs.Check[event.HTTPClientRequestCompleted](),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewJobInfo(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := event.NewJobInfo("j", "r", start, time.Time{}, "", 0)
	if s.Type[0] != "start" || s.Outcome != event.OutcomeUnknown || s.Duration != 0 || !s.End.IsZero() {
		t.Errorf("start info: %+v", s)
	}
	e := event.NewJobInfo("j", "r", start, start.Add(time.Second), event.OutcomeFailure, 1)
	if e.Type[0] != "end" || e.Outcome != "failure" || e.Duration != time.Second || e.ExitCode != 1 {
		t.Errorf("end info: %+v", e)
	}
}

func TestHTTPOutcome(t *testing.T) {
	for _, c := range []struct {
		status int
		server bool
		want   string
	}{
		{0, true, "unknown"}, {200, true, "success"}, {304, true, "success"}, {404, true, "success"}, {500, true, "failure"},
		{0, false, "unknown"}, {200, false, "success"}, {404, false, "failure"}, {503, false, "failure"},
	} {
		if got := event.HTTPOutcome(c.status, c.server); got != c.want {
			t.Errorf("HTTPOutcome(%d, %v) = %q, want %q", c.status, c.server, got, c.want)
		}
	}
}
