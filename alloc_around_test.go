package pipelog_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
)

// TestAllocEnrich: enrichers that add labels allocate nothing, once the
// pooled label buffer has grown. (A label key with '.', '*' or a backslash costs
// one allocation per line wherever the label comes from: the encoder
// copies it to sanitise it.)
func TestAllocEnrich(t *testing.T) {
	testlog.SkipUnderRace(t)
	step := func(_ context.Context, labels []event.Label) []event.Label {
		return append(labels, event.Label{Key: "step", Value: "load"}, event.Label{Key: "attempt", Value: "2"})
	}
	log := allocLogger(t, pipelog.Config{Enrichers: []pipelog.Enricher{tenantEnricher, step}})
	ctx := withTenant(context.Background(), "acme")
	ev := newOrderRejected()
	if got := testing.AllocsPerRun(500, func() { pipelog.Emit(ctx, log, ev) }); got != 0 {
		t.Errorf("%v allocations per Emit with two enrichers, want 0", got)
	}
}

// TestAllocSampling: deciding, dropping and counting allocate nothing,
// across interval boundaries too (only the summary lines, written once an
// interval, may).
func TestAllocSampling(t *testing.T) {
	testlog.SkipUnderRace(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC).UnixNano())
	log := allocLogger(t, pipelog.Config{
		Now:      func() time.Time { return time.Unix(0, now.Load()) },
		Sampling: &pipelog.Sampling{Interval: time.Second, First: 3, Thereafter: 10},
	})
	ctx := context.Background()
	ev := newOrderRejected()
	if got := testing.AllocsPerRun(1000, func() { pipelog.Emit(ctx, log, ev) }); got != 0 {
		t.Errorf("%v allocations per sampled Emit, want 0", got)
	}
	if log.Stats().Sampled == 0 {
		t.Fatal("nothing was sampled: the test measured the wrong path")
	}
	type Other struct{ event.Base }
	if got := testing.AllocsPerRun(1000, func() { pipelog.Emit(ctx, log, Other{Base: event.Warn("x")}) }); got != 0 {
		t.Errorf("%v allocations per sampled Emit of a second type, want 0", got)
	}
}
