package core

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are a Core's counters since New.
type Stats struct {
	Written    uint64 // events at least one sink took
	Failed     uint64 // events every sink refused (each failure is also a SinkError)
	Dropped    uint64 // events emitted after Close
	SinkErrors uint64 // failed or panicking sink writes
	Errors     uint64 // everything reported to OnError

	Sampled        uint64 // events dropped by sampling
	EnricherPanics uint64 // enricher calls that panicked
}

type counters struct {
	written, failed, dropped, sinkErrors, errors atomic.Uint64
}

// Stats returns the counters.
func (c *Core) Stats() Stats {
	s := &c.stats
	return Stats{Written: s.written.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load(),
		SinkErrors: s.sinkErrors.Load(), Errors: s.errors.Load(),
		Sampled: c.sampler.sampledTotal(), EnricherPanics: c.extra.enricherPanics.Load()}
}

// Fail counts err and hands it to OnError, or to the rate-limited standard
// error reporter.
func (c *Core) Fail(err error) {
	c.stats.errors.Add(1)
	if c.onError != nil {
		c.callOnError(err)
		return
	}
	c.report.report(err)
}

// callOnError calls the user's OnError; a panic there is printed to
// standard error (OnError is where it would have gone), never raised.
func (c *Core) callOnError(err error) {
	defer func() {
		if r := recover(); r != nil {
			c.report.report(fmt.Errorf("pipelog: Config.OnError panicked (%v) on: %w", r, err))
		}
	}()
	c.onError(err)
}

// reporter prints at most one error a second to standard error, with a
// count of those it held back, so a dead sink cannot flood the terminal.
type reporter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (r *reporter) report(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.last) < time.Second {
		r.suppressed++
		return
	}
	r.last = now
	if r.suppressed > 0 {
		fmt.Fprintf(os.Stderr, "%v (and %d more errors in the last second)\n", err, r.suppressed)
		r.suppressed = 0
		return
	}
	fmt.Fprintln(os.Stderr, err)
}
