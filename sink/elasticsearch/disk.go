package elasticsearch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pipelog/pipelog/internal/diskqueue"
	"github.com/pipelog/pipelog/sink"
)

// The disk queue (Config.QueueDir): Write appends each event, with its bulk
// _id, to a crash-safe queue in the state directory (internal/diskqueue)
// and returns; the pump goroutine reads the queue into the in-memory
// batches, waiting for room there instead of the callers; a record is
// acknowledged once its event is resolved (indexed, duplicate or
// dead-lettered), so the queue persists as acknowledged only what the
// server answered for. At start everything after that position is sent
// again under the same _id: a create that already succeeded answers 409,
// counted as a duplicate, so each event is indexed once.

// DiskSync is when an event written to the disk queue is durable.
type DiskSync int

const (
	// DiskSyncBatch: before Write returns; concurrent writers share each
	// fsync (group commit).
	DiskSyncBatch DiskSync = iota
	// DiskSyncInterval: fsynced every DiskSyncInterval (default 1s); a
	// machine crash loses at most that window, a process kill what was
	// not yet written (the last 10ms of events, 4 MiB at most).
	DiskSyncInterval
	// DiskSyncNone: written within 10ms, never fsynced: survives a process
	// kill, not a machine crash.
	DiskSyncNone
)

// DiskFull is what Write does when the disk queue holds MaxDiskBytes.
type DiskFull int

const (
	// DiskFullDropNewest (default): the event is dropped, counted in
	// Stats.Dropped, reported, and Write returns ErrQueueFull; callers
	// never wait, however long the outage.
	DiskFullDropNewest DiskFull = iota
	// DiskFullBlock: Write waits until delivered events free a segment.
	DiskFullBlock
	// DiskFullDropOldest: the oldest segment (8 MiB) is deleted; its
	// events not yet read are counted in Stats.Dropped.
	DiskFullDropOldest
)

func (s *Sink) openDisk() error {
	cfg := s.cfg
	qc := diskqueue.Config{Dir: cfg.QueueDir, SyncInterval: cfg.DiskSyncInterval, MaxBytes: cfg.MaxDiskBytes}
	switch cfg.DiskSync {
	case DiskSyncInterval:
		qc.Sync = diskqueue.SyncInterval
	case DiskSyncNone:
		qc.Sync = diskqueue.SyncNone
	}
	switch cfg.DiskFull {
	case DiskFullBlock:
		qc.Full = diskqueue.Block
	case DiskFullDropOldest:
		qc.Full = diskqueue.DropOldest
	default:
		qc.Full = diskqueue.DropNewest
	}
	q, rec, err := diskqueue.Open(qc)
	if err != nil {
		return err
	}
	s.dq = q
	s.dqRecovery = rec
	q.OnCorrupt(func(at diskqueue.Pos, n int64) {
		s.onError(fmt.Errorf("sink: elasticsearch: disk queue %s: %d corrupt byte(s) skipped at %s", cfg.QueueDir, n, at))
	})
	if rec.Records > 0 || rec.TornTails > 0 || len(rec.Corrupt) > 0 || rec.AckLost {
		s.onError(fmt.Errorf("sink: elasticsearch: disk queue %s: %s", cfg.QueueDir, rec))
	}
	s.pumpStop = make(chan struct{})
	s.pumpCtx, s.pumpCancel = context.WithCancel(context.Background())
	return nil
}

var recPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// addDisk appends one event to the disk queue. done is false when the
// queue is broken (an I/O error, reported once): the event goes to memory.
func (s *Sink) addDisk(line, id []byte) (err error, done bool) {
	need := int64(len(`{"create":{"_index":"","_id":""}}`) + len(s.index) + len(id) + len(line) + 2)
	if need > s.cfg.MaxQueueBytes {
		return s.reject(line, fmt.Sprintf("event of %d bytes exceeds MaxQueueBytes %d", need, s.cfg.MaxQueueBytes)), true
	}
	bp := recPool.Get().(*[]byte)
	rec := binary.AppendUvarint((*bp)[:0], uint64(len(id)))
	rec = append(append(rec, id...), line...)
	err = s.dq.Append(rec)
	if cap(rec) <= 1<<20 {
		*bp = rec
		recPool.Put(bp)
	}
	switch {
	case err == nil:
		s.st.accepted.Add(1)
		return nil, true
	case errors.Is(err, diskqueue.ErrFull):
		return s.dropLocked(), true // dropLocked needs no lock
	case errors.Is(err, diskqueue.ErrTooLarge):
		return s.reject(line, "event larger than the disk queue takes"), true
	case errors.Is(err, diskqueue.ErrClosed):
		return sink.ErrClosed, true
	}
	if s.dqBroken.CompareAndSwap(false, true) {
		s.onError(fmt.Errorf("sink: elasticsearch: disk queue %s failed; events are now queued in memory only, lost if the process dies: %w", s.cfg.QueueDir, err))
	}
	return nil, false
}

func decodeRecord(p []byte) (id, line []byte, ok bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, false
	}
	return p[k : k+int(n)], p[k+int(n):], len(p) > k+int(n)
}

// pump moves records from the disk queue into the batches until stopped.
func (s *Sink) pump() {
	defer s.pumpWG.Done()
	recs := make([]diskqueue.Record, 0, 256)
	for {
		var err error
		recs, err = s.dq.ReadBatch(s.pumpCtx, cap(recs), recs[:0])
		if err != nil {
			return
		}
		for _, r := range recs {
			id, line, ok := decodeRecord(r.Data)
			if !ok { // its CRC matched: written so by an older version, or a bug
				s.dq.Ack(r.Seq)
				s.report(fmt.Errorf("sink: elasticsearch: disk queue %s: undecodable record at %s skipped", s.cfg.QueueDir, r.Pos))
				continue
			}
			switch err := s.addMem(line, id, r.Seq); {
			case errors.Is(err, sink.ErrClosed):
				return // the records stay on disk for the next start
			case err != nil: // rejected and dead-lettered
				s.dq.Ack(r.Seq)
			}
		}
	}
}

// drainDisk cuts batches until every event appended to the disk queue was
// resolved, or ctx ends.
func (s *Sink) drainDisk(ctx context.Context) error {
	target := s.dq.LastPos()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for s.dq.Acked().Less(target) {
		s.mu.Lock()
		s.cutLocked()
		s.mu.Unlock()
		if err := s.haltErr(); err != nil {
			return err // the events wait on disk
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sink: elasticsearch: flush: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// stopPump stops the pump (Close): what it has not read stays on disk.
func (s *Sink) stopPump() {
	s.mu.Lock()
	s.pumpStopped = true
	close(s.pumpStop)
	s.mu.Unlock()
	s.pumpCancel()
	s.pumpWG.Wait()
}

// onDisk reports whether every item of b has a disk queue record.
func onDisk(b *esBatch) bool {
	for i := range b.items {
		if b.items[i].seq == 0 {
			return false
		}
	}
	return true
}

// backToDisk releases, without acknowledging, the items of b that are in
// the disk queue (Close's deadline: they are sent at the next start) and
// returns the batch of the others (nil if none).
func (s *Sink) backToDisk(b *esBatch) *esBatch {
	if s.dq == nil {
		return b
	}
	var keep []int
	var back []esItem
	for i := range b.items {
		if b.items[i].seq != 0 {
			back = append(back, b.items[i])
		} else {
			keep = append(keep, i)
		}
	}
	if len(back) == 0 {
		return b
	}
	s.st.leftOnDisk.Add(int64(len(back)))
	s.st.inFlight.Add(-int64(len(back)))
	s.release(back)
	if len(keep) == 0 {
		putBatch(b)
		return nil
	}
	nb := subBatch(b, keep)
	putBatch(b)
	return nb
}
