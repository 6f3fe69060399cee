package pipelog

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipelog/pipelog/sink"
)

// SinkError is what OnError receives when a sink's Write fails.
type SinkError struct {
	Sink sink.Sink
	Err  error
}

func (e *SinkError) Error() string { return fmt.Sprintf("pipelog: sink %T: %v", e.Sink, e.Err) }
func (e *SinkError) Unwrap() error { return e.Err }

// ErrClosed is reported (once) when events are emitted to a closed Logger.
var ErrClosed = errors.New("pipelog: logger closed; event dropped")

// Stats are a Logger's counters since New, shared with loggers derived from it.
type Stats struct {
	Written    uint64 // events encoded and handed to the sinks
	Dropped    uint64 // events emitted after Close
	SinkErrors uint64 // failed sink writes
	Errors     uint64 // everything reported to OnError
}

type counters struct {
	written, dropped, sinkErrors, errors atomic.Uint64
}

// Stats returns the Logger's counters.
func (l *Logger) Stats() Stats {
	s := &l.core.stats
	return Stats{Written: s.written.Load(), Dropped: s.dropped.Load(), SinkErrors: s.sinkErrors.Load(), Errors: s.errors.Load()}
}

// fail counts err and hands it to OnError, or to the rate-limited standard
// error reporter.
func (c *core) fail(err error) {
	c.stats.errors.Add(1)
	if c.onError != nil {
		c.onError(err)
		return
	}
	c.report.report(err)
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
