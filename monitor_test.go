package pipelog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
)

// TestStatsInterval: the Logger writes its Stats periodically, and once
// more at Close; its goroutine ends with Close.
func TestStatsInterval(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{StatsInterval: 10 * time.Millisecond})
	type Tick struct{ event.Base }
	for range 3 {
		pipelog.Emit(context.Background(), log, Tick{Base: event.Info("tick")})
	}
	waitLines(t, mem, 4) // 3 ticks and a periodic LoggerStats
	require.NoError(t, log.Close(context.Background()))
	n := len(mem.Lines())
	time.Sleep(30 * time.Millisecond)
	assert.Len(t, mem.Lines(), n, "nothing is written after Close: the goroutine stopped")

	lines := testlog.Lines(t, mem)
	var stats []map[string]any
	for _, l := range lines {
		if testlog.At(l, "event.action") == "LoggerStats" {
			stats = append(stats, l)
		}
	}
	require.GreaterOrEqual(t, len(stats), 2, "at least one periodic and the one at Close")
	first, last := stats[0], stats[len(stats)-1]
	testlog.WantAt(t, first, "event.kind", "metric")
	testlog.WantAt(t, first, "log.level", "info")
	// At Close: the three ticks and every LoggerStats before it.
	testlog.WantAt(t, last, "Pipelog.LoggerStats.written", 3+len(stats)-1)
	testlog.WantAt(t, last, "Pipelog.LoggerStats.sink_dead_lettered", 0)
}
