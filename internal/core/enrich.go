package core

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
)

// Enricher appends labels taken from ctx to labels and returns the result
// (see pipelog.Enricher).
type Enricher func(ctx context.Context, labels []event.Label) []event.Label

type enricher struct {
	f        Enricher
	reported atomic.Bool // its first panic was reported
}

// SetEnrichers installs the enrichers run for every line. It must be
// called before the Core is shared (pipelog.New does).
func (c *Core) SetEnrichers(fs []Enricher) {
	for _, f := range fs {
		if f != nil {
			c.enrich = append(c.enrich, &enricher{f: f})
		}
	}
}

// GatherLine is Gather plus the enrichers, whose labels ln holds: for
// adapters, which have a Line before they gather.
func (c *Core) GatherLine(ctx context.Context, ln *Line, rec *encode.Record) {
	c.Gather(ctx, rec)
	if c.enrich != nil {
		c.enrichLabels(ctx, ln, rec)
	}
}

// enrichLabels runs the enrichers after the context's labels, in ln's
// pooled label buffer (so that adding labels allocates nothing once the
// buffer has grown), and points rec at the result. The encoder keeps the
// first label of a key, so a context label wins over an enricher's of the
// same key, and an earlier enricher over a later one.
func (c *Core) enrichLabels(ctx context.Context, ln *Line, rec *encode.Record) {
	if ctx == nil {
		ctx = context.Background()
	}
	buf := append(ln.labels[:0], rec.Labels...)
	for i, e := range c.enrich {
		buf = c.runEnricher(i, e, ctx, buf)
	}
	if cap(buf) > 256 {
		// One enricher went wild: do not pin that much in the pool.
		ln.labels = nil
	} else {
		ln.labels = buf
	}
	rec.Labels = buf
}

// runEnricher calls e, turning a panic into a counted error (reported once
// per enricher) and dropping what that call added: the line is written
// without them.
func (c *Core) runEnricher(i int, e *enricher, ctx context.Context, buf []event.Label) (out []event.Label) {
	n := len(buf)
	defer func() {
		if r := recover(); r != nil {
			out = buf[:n]
			c.extra.enricherPanics.Add(1)
			if !e.reported.Swap(true) {
				c.Fail(fmt.Errorf("pipelog: Config.Enrichers[%d] panicked (its labels are left out; reported once, counted in Stats.EnricherPanics): %v", i, r))
			}
		}
	}()
	return e.f(ctx, buf)
}
