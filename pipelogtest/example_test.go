package pipelogtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/pipelogtest"
	"github.com/pipelog/pipelog/sink"
)

// loadRows is the code under test: it rejects rows without an amount.
func loadRows(ctx context.Context, log *pipelog.Logger, amounts []int) {
	for i, a := range amounts {
		if a <= 0 {
			pipelog.Emit(ctx, log, RowRejected{Base: event.Warn("row rejected").WithReason("amount: not positive"), Row: i + 1})
		}
	}
}

// An Observer keeps what the code logged; the filters find events by name,
// level and field.
func Example() {
	obs := pipelogtest.NewObserver()
	log, _ := pipelog.New(pipelog.Config{Service: "loader", Sinks: []sink.Sink{obs}})
	loadRows(context.Background(), log, []int{5, 0, 7, -1})
	_ = log.Close(context.Background())

	rejected := obs.Events().Named("RowRejected").AtLevel(event.LevelWarn)
	fmt.Println(len(rejected), "rows rejected")
	_, _, found := pipelogtest.FindEvent(obs, "RowRejected", map[string]any{
		"event.reason":            "amount: not positive",
		"Pipelog.RowRejected.row": 4,
	})
	fmt.Println("row 4 rejected:", found)
	// Output:
	// 2 rows rejected
	// row 4 rejected: true
}

// In a test: assert that an event was emitted with these fields, and that
// every line is ECS-conformant.
func ExampleRequireEvent() {
	testLoadRows := func(t *testing.T) {
		obs := pipelogtest.NewObserver()
		log, _ := pipelog.New(pipelog.Config{Service: "loader", Sinks: []sink.Sink{obs}})
		loadRows(context.Background(), log, []int{5, 0})
		_ = log.Close(context.Background())

		pipelogtest.RequireEvent(t, obs, "RowRejected", map[string]any{"Pipelog.RowRejected.row": 2})
		pipelogtest.AssertNoEvent(t, obs, "RowLoaded")
		pipelogtest.CheckECS(t, obs.Bytes())
	}
	_ = testLoadRows
}
