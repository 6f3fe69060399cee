package pipelog

import (
	"context"
	"fmt"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/core"
)

// Enricher adds labels to every line a Logger writes, from the line's
// context: a tenant, a job step, whatever middleware of the application's
// own keeps there. It appends to labels and returns the result, the way
// strconv.AppendInt does; the slice is pooled by the Logger, so an
// enricher that appends a few labels allocates nothing (TestAllocEnrich).
// It must not keep labels after it returns, must be safe for concurrent
// use, and should be cheap: it runs on every enabled event. ctx is never
// nil (context.Background() for an Emit without one).
//
// Labels go to labels.<key> like logctx labels. The first label of a key
// wins, in this order: the event's own labels.* fields, the context's
// labels (logctx.WithLabel), the enrichers' in Config order, then the
// Logger's fixed fields. An enricher that panics is recovered: the line is
// written without what that call added, Stats.EnricherPanics counts it and
// the first panic of each enricher goes to OnError. A Logger without
// enrichers pays one nil check per event.
//
// Enrichers run for typed events and for the lines of the slog and zap
// adapters (pipelogslog, pipelogzap) alike.
type Enricher func(ctx context.Context, labels []event.Label) []event.Label

// around installs what Config adds around the core: enrichers, sampling
// and the self-monitoring event. It runs before the Logger is shared.
func (l *Logger) around(cfg Config) error {
	c := l.h.C
	if len(cfg.Enrichers) > 0 {
		fs := make([]core.Enricher, len(cfg.Enrichers))
		for i, f := range cfg.Enrichers {
			fs[i] = core.Enricher(f)
		}
		c.SetEnrichers(fs)
	}
	if cfg.Sampling != nil {
		sc, err := cfg.Sampling.config(l.h.Fixed)
		if err != nil {
			return fmt.Errorf("pipelog: %w", err)
		}
		c.SetSampling(sc)
	}
	if cfg.StatsInterval > 0 {
		l.startMonitor(cfg.StatsInterval)
	}
	return nil
}
