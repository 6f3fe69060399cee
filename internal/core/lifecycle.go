package core

import (
	"sync/atomic"

	"github.com/pipelog/pipelog/sink"
)

// extraCounters are the counters of the optional features (enrichers,
// sampling): written only when those are on.
type extraCounters struct {
	enricherPanics atomic.Uint64
}

// Sinks returns the Core's sinks, in Config order (for metrics: their
// losses and stats). The slice is the caller's.
func (c *Core) Sinks() []sink.Sink {
	out := make([]sink.Sink, len(c.sinks))
	for i := range c.sinks {
		out[i] = c.sinks[i].s
	}
	return out
}

// BeforeClose registers f to run at the first Close, before the sinks are
// closed and while lines can still be written: the owner of a goroutine
// stops it there, the sampler writes its last summaries. Hooks run in the
// order they were registered. It must be called before the Core is shared.
func (c *Core) BeforeClose(f func()) { c.beforeClose = append(c.beforeClose, f) }

// runBeforeClose runs the hooks once; Close calls it with closeMu held.
func (c *Core) runBeforeClose() {
	hooks := c.beforeClose
	c.beforeClose = nil
	for _, f := range hooks {
		f()
	}
}
