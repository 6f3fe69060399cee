package pipelog

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/sink"
)

// deadLettering accepts every line and reports it dead-lettered, as a bulk
// sink whose every request was refused (a wrong bulk path, a 401) does.
type deadLettering struct {
	memsink.Sink
	n uint64
}

func (d *deadLettering) Write(p []byte) error { d.n++; return nil }
func (d *deadLettering) Losses() sink.Losses {
	return sink.Losses{DeadLettered: d.n, DeadLetter: "/var/lib/orders-etl/orders-etl.deadletter.ndjson"}
}

// refusing refuses every line.
type refusing struct{ memsink.Sink }

func (*refusing) Write([]byte) error { return errors.New("disk on fire") }

func TestRunJobReportsLosses(t *testing.T) {
	ok := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name      string
		sink      sink.Sink
		run       func(context.Context) error
		allowLoss bool
		code      int
		line      string // in the last line; "" for none
	}{
		{name: "every event dead-lettered", sink: &deadLettering{}, run: ok, code: ExitLost,
			line: "pipelog: job j: 3 event(s) not delivered: 3 dead-lettered to /var/lib/orders-etl/orders-etl.deadletter.ndjson; exit code 3\n"},
		{name: "every event refused", sink: &refusing{}, run: ok, code: ExitLost,
			line: "3 lost (undelivered)"},
		{name: "loss allowed", sink: &deadLettering{}, run: ok, allowLoss: true, code: ExitOK,
			line: "3 dead-lettered"},
		{name: "a failed job keeps its code", sink: &deadLettering{}, code: ExitFailure,
			run: func(context.Context) error { return errors.New("bad input") }, line: "exit code 1"},
		{name: "nothing lost", sink: &memsink.Sink{}, run: ok, code: ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, err := New(Config{Service: "jobtest", Sinks: []sink.Sink{tc.sink}, OnError: func(error) {}})
			require.NoError(t, err)
			var report bytes.Buffer
			run := func(ctx context.Context) error {
				Emit(ctx, log, ItemProcessed{Base: event.Info("working")})
				return tc.run(ctx)
			}
			code := RunJob(context.Background(), log, Job{Name: "j", Run: run, AllowLoss: tc.allowLoss,
				Report: &report, IgnoreSignals: true})
			assert.Equal(t, tc.code, code)
			if tc.line == "" {
				assert.Empty(t, report.String())
				assert.NoError(t, log.Close(context.Background()))
				return
			}
			assert.Contains(t, report.String(), tc.line)
			assert.Equal(t, 1, bytes.Count(report.Bytes(), []byte{'\n'}), "one line")
			// Close tells the same truth, every time.
			for range 2 {
				err := log.Close(context.Background())
				require.ErrorIs(t, err, sink.ErrLost)
				var le *sink.LossError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, uint64(3), le.Losses.Total())
			}
		})
	}
}

// Only the run's own losses count: a Logger that lost events before
// RunJob does not make a clean run fail.
func TestRunJobCountsOnlyItsRun(t *testing.T) {
	dl := &deadLettering{n: 5}
	log, err := New(Config{Service: "jobtest", Sinks: []sink.Sink{&memsink.Sink{}, dl}, OnError: func(error) {}})
	require.NoError(t, err)
	var report bytes.Buffer
	code := RunJob(context.Background(), log, Job{Name: "clean", Report: &report, IgnoreSignals: true,
		Run: func(context.Context) error { return nil }})
	// The run itself wrote two events (start and end) to dl: those count.
	assert.Equal(t, ExitLost, code)
	assert.Contains(t, report.String(), "2 event(s) not delivered")
}
