package diskqueue

import "time"

// The queue's own goroutine and its end.

// loop is the background goroutine: write-out, fsync interval, checkpoints.
func (q *Queue) loop() {
	defer q.wg.Done()
	t := time.NewTicker(min(q.cfg.WriteInterval, q.cfg.CheckpointInterval))
	defer t.Stop()
	lastSync, lastCkpt := time.Now(), time.Now()
	for {
		select {
		case <-q.done:
			return
		case now := <-t.C:
			switch {
			case q.cfg.Sync == SyncInterval && now.Sub(lastSync) >= q.cfg.SyncInterval:
				_ = q.Sync()
				lastSync = now
			case q.cfg.Sync != SyncBatch:
				_ = q.WriteOut()
			}
			if now.Sub(lastCkpt) >= q.cfg.CheckpointInterval {
				_ = q.Checkpoint()
				lastCkpt = now
			}
		}
	}
}

// Close writes and fsyncs what is pending, persists the acknowledged
// position, and releases the files. Unacknowledged records stay for the
// next Open.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.spaceCond.Broadcast()
	q.mu.Unlock()
	close(q.done)
	q.wg.Wait()
	err := q.Sync()
	if cerr := q.Checkpoint(); err == nil {
		err = cerr
	}
	q.mu.Lock()
	if q.wfile != nil {
		if cerr := q.wfile.Close(); err == nil {
			err = cerr
		}
		q.wfile = nil
	}
	q.mu.Unlock()
	q.rd.mu.Lock() // a Next in progress returns first (ErrClosed after it)
	q.rd.closeFile()
	q.rd.mu.Unlock()
	return err
}
