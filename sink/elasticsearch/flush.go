package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pipelog/pipelog/sink"
)

// resolve releases items that reached a final state, acknowledging their
// disk queue records.
func (s *Sink) resolve(items []esItem) {
	if s.dq != nil {
		for i := range items {
			if items[i].seq != 0 {
				s.dq.Ack(items[i].seq)
			}
		}
	}
	s.release(items)
}

// release frees the queue room of items.
func (s *Sink) release(items []esItem) {
	if len(items) == 0 {
		return
	}
	var bytes int64
	s.mu.Lock()
	ep, n := items[0].epoch, int64(0)
	for i := range items {
		bytes += items[i].size()
		if items[i].epoch != ep {
			s.epochDoneLocked(ep, n)
			ep, n = items[i].epoch, 0
		}
		n++
	}
	s.epochDoneLocked(ep, n)
	s.pendingBytes -= bytes
	s.pendingEvts -= int64(len(items))
	if s.spaceWaiters > 0 {
		close(s.spaceCh)
		s.spaceCh = make(chan struct{})
	}
	s.mu.Unlock()
}

func (s *Sink) epochDoneLocked(ep uint64, n int64) {
	left := s.epochPending[ep] - n
	if left > 0 {
		s.epochPending[ep] = left
		return
	}
	delete(s.epochPending, ep)
	if s.drainWaiters > 0 {
		close(s.drainCh)
		s.drainCh = make(chan struct{})
	}
}

func (s *Sink) drainedLocked(upTo uint64) bool {
	for ep := range s.epochPending {
		if ep <= upTo {
			return false
		}
	}
	return true
}

// Flush sends the current batch and waits until every event written before
// the call was indexed, found duplicate or dead-lettered, or ctx ends. Events
// still undelivered when ctx ends stay queued (they are not dead-lettered:
// the sink keeps trying; Close dead-letters).
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return sink.ErrClosed
	}
	if s.dq != nil {
		s.mu.Unlock()
		if err := s.drainDisk(ctx); err != nil {
			return err
		}
		s.mu.Lock()
	}
	s.cutLocked()
	upTo := s.epoch
	s.epoch++
	err := s.waitDrainedLocked(ctx, upTo)
	s.mu.Unlock()
	if err == nil {
		err = s.haltErr()
	}
	return err
}

func (s *Sink) waitDrainedLocked(ctx context.Context, upTo uint64) error {
	for !s.drainedLocked(upTo) {
		ch := s.drainCh
		s.drainWaiters++
		s.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		s.mu.Lock()
		s.drainWaiters--
		if err != nil {
			return fmt.Errorf("sink: elasticsearch: flush: %w", err)
		}
	}
	return nil
}

// Close stops accepting events, delivers what is queued until ctx ends, then
// cancels what is in flight and dead-letters everything still undelivered.
// It stops every goroutine of the sink before returning. It returns an error
// when events had to be dead-lettered at close or dropped.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.isClosed.Store(true)
	close(s.closedCh)
	s.cutLocked()
	s.mu.Unlock()
	s.ticker.Wait()
	if s.dq != nil {
		_ = s.drainDisk(ctx)
		s.stopPump()
		s.mu.Lock()
		s.cutLocked()
		s.mu.Unlock()
	}
	close(s.chunks) // nothing sends once closed is set (and the pump stopped)
	s.assembler.Wait()
	s.qmu.Lock()
	s.stopping = true
	s.qmu.Unlock()
	s.workCond.Broadcast()

	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	var errs []error
	select {
	case <-done:
	case <-ctx.Done():
		s.abort() // cancels requests and backoffs; workers dead-letter the rest
		<-done
		errs = append(errs, fmt.Errorf("sink: elasticsearch: close: %w", ctx.Err()))
	}
	s.abort()
	s.reportDrops()
	if s.dq != nil {
		if n := s.st.leftOnDisk.Load(); n > 0 || !s.dq.Drained() {
			s.onError(fmt.Errorf("sink: elasticsearch: undelivered events stay in the disk queue %s; a sink started on it sends them", s.cfg.QueueDir))
		}
		if err := s.dq.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sink: elasticsearch: disk queue: %w", err))
		}
	}
	if err := s.haltErr(); err != nil {
		errs = append(errs, err)
	}
	if n := s.st.closeDead.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("sink: elasticsearch: %d event(s) dead-lettered during close", n))
	}
	if n := s.st.dropped.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("sink: elasticsearch: %d event(s) dropped since start", n))
	}
	if s.ownDL {
		if err := s.dl.Close(context.Background()); err != nil {
			errs = append(errs, err)
		}
	} else if err := s.dl.Flush(ctx); err != nil && !errors.Is(err, sink.ErrClosed) {
		errs = append(errs, fmt.Errorf("sink: elasticsearch: dead letter flush: %w", err))
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = s.client.Close(cctx)
	cancel()
	if s.ownTransport != nil {
		s.ownTransport.CloseIdleConnections()
	}
	return s.redact(errors.Join(errs...))
}

// tick cuts the active batch every FlushInterval and reports drops.
func (s *Sink) tick() {
	defer s.ticker.Done()
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closedCh:
			return
		case <-t.C:
			s.mu.Lock()
			s.cutLocked()
			s.mu.Unlock()
			s.reportDrops()
		}
	}
}

// resolveBatch marks the first n items of b delivered.
func (s *Sink) resolveBatch(b *esBatch, n int) {
	s.st.inFlight.Add(-int64(n))
	s.resolve(b.items[:n])
}

func (s *Sink) resolveIdx(b *esBatch, idx []int) {
	items := make([]esItem, len(idx))
	for k, i := range idx {
		items[k] = b.items[i]
	}
	s.st.inFlight.Add(-int64(len(items)))
	s.resolve(items)
}
