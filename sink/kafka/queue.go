package kafka

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipelog/pipelog/sink"
)

// queue bounds what the sink holds: events accepted and not yet resolved.
// Write and franz-go's promise goroutine meet here once per event, so the
// counts are atomics and the mutex is taken only when someone waits (for
// room, or for the queue to drain).
type queue struct {
	maxBytes    int64
	maxEvts     int64
	fullTimeout time.Duration
	block       bool

	_           [64]byte // Write and the promise goroutine both add to evts and bytes
	evts, bytes atomic.Int64
	waiters     atomic.Int32
	_           [64]byte
	writers     atomic.Int64 // Writes between checking closed and handing the record on (Write only)
	closed      atomic.Bool
	_           [64]byte

	mu       sync.Mutex
	spaceCh  chan struct{} // closed and replaced on each release while someone waits
	drainCh  chan struct{} // closed and replaced when the queue is empty while someone waits
	closedCh chan struct{}
}

func (q *queue) init(cfg Config) {
	q.maxBytes, q.maxEvts = cfg.MaxQueueBytes, int64(cfg.MaxQueueEvents)
	q.fullTimeout, q.block = cfg.QueueFullTimeout, cfg.BlockWhenFull
	q.spaceCh = make(chan struct{})
	q.drainCh = make(chan struct{})
	q.closedCh = make(chan struct{})
}

// tryAdd counts one event of size, unless that overfills the queue (a lone
// event always fits).
func (q *queue) tryAdd(size int64) bool {
	e, b := q.evts.Add(1), q.bytes.Add(size)
	if e == 1 || (e <= q.maxEvts && b <= q.maxBytes) {
		return true
	}
	// Undo without waking the waiters: a failed add frees no room (the
	// events it did not fit beside will wake them when released), and a
	// wake here would make the caller's own wait return at once, so a
	// writer waiting on a full queue would spin. Only the queue becoming
	// empty is signalled, as release does, for Flush.
	q.bytes.Add(-size)
	if q.evts.Add(-1) == 0 {
		q.signal(0)
	}
	return false
}

// reserve counts size against the bound, waiting as configured. On success
// the caller hands the record on and then decrements q.writers.
func (q *queue) reserve(size int64) error {
	q.writers.Add(1)
	if q.closed.Load() {
		q.writers.Add(-1)
		return sink.ErrClosed
	}
	if q.tryAdd(size) {
		return nil
	}
	err := q.waitRoom(size)
	if err != nil {
		q.writers.Add(-1)
	}
	return err
}

func (q *queue) waitRoom(size int64) error {
	if !q.block && q.fullTimeout < 0 {
		return ErrQueueFull
	}
	var deadline <-chan time.Time
	if !q.block {
		t := time.NewTimer(q.fullTimeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		q.mu.Lock()
		q.waiters.Add(1)
		ch := q.spaceCh
		q.mu.Unlock()
		ok := q.tryAdd(size) // after registering: a release from now on wakes ch
		if !ok {
			select {
			case <-ch:
			case <-q.closedCh:
			case <-deadline:
				q.waiters.Add(-1)
				return ErrQueueFull
			}
		}
		q.waiters.Add(-1)
		if ok {
			return nil
		}
		if q.closed.Load() {
			return sink.ErrClosed
		}
	}
}

// release uncounts one event of size and wakes whoever waits.
func (q *queue) release(size int64) {
	q.bytes.Add(-size)
	q.signal(q.evts.Add(-1))
}

// signal wakes the waiters for room, and those for an empty queue when left
// is 0.
func (q *queue) signal(left int64) {
	if q.waiters.Load() == 0 {
		return
	}
	q.mu.Lock()
	close(q.spaceCh)
	q.spaceCh = make(chan struct{})
	if left == 0 {
		close(q.drainCh)
		q.drainCh = make(chan struct{})
	}
	q.mu.Unlock()
}

// waitDrained waits until nothing is queued, or ctx ends.
func (q *queue) waitDrained(ctx context.Context) error {
	for {
		q.mu.Lock()
		q.waiters.Add(1)
		ch := q.drainCh
		q.mu.Unlock()
		if q.evts.Load() == 0 {
			q.waiters.Add(-1)
			return nil
		}
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		q.waiters.Add(-1)
		if err != nil {
			return fmt.Errorf("sink: kafka: flush: %w", err)
		}
	}
}

// close refuses new events, wakes the Writes waiting for room and waits
// for those under way to hand their records on. It reports false when the
// queue was already closed.
func (q *queue) close() bool {
	q.mu.Lock()
	if q.closed.Load() {
		q.mu.Unlock()
		return false
	}
	q.closed.Store(true)
	close(q.closedCh)
	q.mu.Unlock()
	for q.writers.Load() > 0 {
		runtime.Gosched()
	}
	return true
}
