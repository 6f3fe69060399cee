package pipelog_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/internal/testlog"
)

// RowRejected is the flood of a bad batch.
type RowRejected struct {
	event.Base
	Row int
}

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// byAction splits decoded lines into the sampled summaries and the rest.
func byAction(lines []map[string]any) (summaries, others []map[string]any) {
	for _, l := range lines {
		if testlog.At(l, "event.action") == "EventsSampled" {
			summaries = append(summaries, l)
		} else {
			others = append(others, l)
		}
	}
	return
}

func TestSamplingFirstThenOneInM(t *testing.T) {
	clock := newFakeClock()
	log, mem, _ := testlog.Logger(t, pipelog.Config{Now: clock.Now,
		Sampling: &pipelog.Sampling{Interval: time.Second, First: 3, Thereafter: 5}})
	ctx := context.Background()
	for i := 1; i <= 20; i++ {
		pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("bad row"), Row: i})
	}
	type Other struct{ event.Base }
	pipelog.Emit(ctx, log, Other{Base: event.Warn("other")})                          // its own count
	pipelog.Emit(ctx, log, RowRejected{Base: event.Error("bad row, error"), Row: 21}) // another level: its own count
	assert.Equal(t, uint64(14), log.Stats().Sampled)

	start := clock.Now()
	clock.Advance(time.Second)
	pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("bad row"), Row: 22}) // a new interval: written, after the summary
	require.NoError(t, log.Close(ctx))

	sums, others := byAction(testlog.Lines(t, mem))
	var rows []any
	for _, l := range others {
		if testlog.At(l, "event.action") == "RowRejected" {
			rows = append(rows, testlog.At(l, "Pipelog.RowRejected.Row"))
		}
	}
	// First 3, then the 5th, 10th, 15th after them (8, 13, 18), then the
	// error-level one and the first of the next interval.
	assert.Equal(t, "[1 2 3 8 13 18 21 22]", fmt.Sprint(rows))
	require.Len(t, sums, 1, "one summary: RowRejected at warn")
	s := sums[0]
	testlog.WantAt(t, s, "Pipelog.EventsSampled.event", "RowRejected")
	testlog.WantAt(t, s, "Pipelog.EventsSampled.level", "warn")
	testlog.WantAt(t, s, "Pipelog.EventsSampled.dropped", 14)
	testlog.WantAt(t, s, "log.level", "warn")
	testlog.WantAt(t, s, "message", "sampling dropped 14 RowRejected events")
	testlog.WantAt(t, s, "event.start", start.Format("2006-01-02T15:04:05.000000Z07:00"))
	testlog.WantAt(t, s, "event.end", start.Add(time.Second).Format("2006-01-02T15:04:05.000000Z07:00"))
	assert.Equal(t, uint64(14), log.Stats().Sampled)
	assert.Equal(t, uint64(10), log.Stats().Written, "8 RowRejected, 1 Other, 1 summary")
}

// TestSamplingCloseFlushes: what was dropped in the interval under way is
// summarised at Close, before the sinks close.
func TestSamplingCloseFlushes(t *testing.T) {
	clock := newFakeClock()
	log, mem, _ := testlog.Logger(t, pipelog.Config{Now: clock.Now,
		Sampling: &pipelog.Sampling{First: 1, Thereafter: -1,
			Types: map[string]pipelog.SamplingRule{"Heartbeat": {Off: true}, "Checkpoint": {First: 2, Thereafter: -1}}}})
	ctx := context.Background()
	type Heartbeat struct{ event.Base }
	type Checkpoint struct{ event.Base }
	for i := range 10 {
		pipelog.Emit(ctx, log, RowRejected{Base: event.Info("bad row"), Row: i})
		pipelog.Emit(ctx, log, Heartbeat{Base: event.Info("beat")})
		pipelog.Emit(ctx, log, Checkpoint{Base: event.Info("checkpoint")})
	}
	clock.Advance(300 * time.Millisecond)
	require.NoError(t, log.Close(ctx))
	sums, others := byAction(testlog.Lines(t, mem))
	assert.Len(t, others, 1+10+2)
	got := map[any]any{} // fmt prints maps sorted by key
	for _, s := range sums {
		got[testlog.At(s, "Pipelog.EventsSampled.event")] = testlog.At(s, "Pipelog.EventsSampled.dropped")
		testlog.WantAt(t, s, "event.end", "2026-11-26T10:00:00.300000Z")
	}
	assert.Equal(t, "map[Checkpoint:8 RowRejected:9]", fmt.Sprint(got))
	assert.Equal(t, uint64(17), log.Stats().Sampled)
}

// TestSamplingBoundedTypes: past MaxTypes pairs, events share one count,
// summarised as "(other)".
func TestSamplingBoundedTypes(t *testing.T) {
	clock := newFakeClock()
	log, mem, _ := testlog.Logger(t, pipelog.Config{Now: clock.Now,
		Sampling: &pipelog.Sampling{First: 1, Thereafter: -1, MaxTypes: 2}})
	ctx := context.Background()
	type T0 struct{ event.Base }
	type T1 struct{ event.Base }
	type T2 struct{ event.Base }
	type T3 struct{ event.Base }
	for range 5 {
		pipelog.Emit(ctx, log, T0{Base: event.Info("x")})
		pipelog.Emit(ctx, log, T1{Base: event.Info("x")})
		pipelog.Emit(ctx, log, T2{Base: event.Info("x")})
		pipelog.Emit(ctx, log, T3{Base: event.Info("x")})
	}
	require.NoError(t, log.Close(ctx))
	sums, others := byAction(testlog.Lines(t, mem))
	assert.Len(t, others, 3, "T0 and T1 once each, then T2 and T3 share one count: one written")
	got := map[any]any{} // fmt prints maps sorted by key
	for _, s := range sums {
		got[testlog.At(s, "Pipelog.EventsSampled.event")] = testlog.At(s, "Pipelog.EventsSampled.dropped")
	}
	assert.Equal(t, "map[(other):9 T0:4 T1:4]", fmt.Sprint(got))
}

// TestSamplingConcurrent: under concurrent Emits across interval
// boundaries, every event is either written or counted, and the summaries
// add up to Stats.Sampled (run with -race).
func TestSamplingConcurrent(t *testing.T) {
	clock := newFakeClock()
	log, mem, _ := testlog.Logger(t, pipelog.Config{Now: clock.Now,
		Sampling: &pipelog.Sampling{Interval: time.Second, First: 10, Thereafter: 7}})
	ctx := context.Background()
	type Other struct{ event.Base }
	const goroutines, perG = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				if g == 0 && i%500 == 0 {
					clock.Advance(time.Second)
				}
				if i%3 == 0 {
					pipelog.Emit(ctx, log, Other{Base: event.Info("other")})
				} else {
					pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("bad row"), Row: i})
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, log.Close(ctx))
	sums, others := byAction(testlog.Lines(t, mem))
	var summed uint64
	for _, s := range sums {
		n, err := testlog.At(s, "Pipelog.EventsSampled.dropped").(interface{ Int64() (int64, error) }).Int64()
		require.NoError(t, err)
		summed += uint64(n)
	}
	st := log.Stats()
	assert.Equal(t, uint64(goroutines*perG), uint64(len(others))+st.Sampled, "every event written or counted")
	assert.Equal(t, st.Sampled, summed, "the summaries account for every dropped event")
	assert.Positive(t, st.Sampled)
}

// TestSamplingQuietInterval: a summary is written when its interval ends,
// even when no event follows (the sampler's goroutine ends it).
func TestSamplingQuietInterval(t *testing.T) {
	clock := newFakeClock()
	log, mem, _ := testlog.Logger(t, pipelog.Config{Now: clock.Now,
		Sampling: &pipelog.Sampling{Interval: 20 * time.Millisecond, First: 1, Thereafter: -1}})
	ctx := context.Background()
	for i := range 5 {
		pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("bad row"), Row: i})
	}
	clock.Advance(time.Second)
	waitLines(t, mem, 2)
	sums, _ := byAction(testlog.Lines(t, mem))
	require.Len(t, sums, 1)
	testlog.WantAt(t, sums[0], "Pipelog.EventsSampled.dropped", 4)
	require.NoError(t, log.Close(ctx))
	assert.Len(t, mem.Lines(), 2, "nothing left to summarise at Close")
}

// waitLines waits (up to 10 s, for a loaded machine) until mem has n lines.
func waitLines(t *testing.T, mem *memsink.Sink, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(mem.Lines()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d lines after 10 s, want %d", len(mem.Lines()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSamplingConfigErrors(t *testing.T) {
	for _, s := range []*pipelog.Sampling{{Interval: -1}, {MaxTypes: -1}, {Types: map[string]pipelog.SamplingRule{"": {}}}} {
		_, err := pipelog.New(pipelog.Config{Service: "x", Sampling: s})
		assert.ErrorContains(t, err, "pipelog: Config.Sampling")
	}
}
