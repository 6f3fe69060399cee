package elasticsearch

import (
	"fmt"
	"time"
)

// Stats is a snapshot of the sink's counters.
type Stats struct {
	Queued           int64 // events accepted, not yet in a request (incl. waiting for retry)
	QueuedBytes      int64 // bytes of everything unresolved (the queue bound)
	InFlight         int64 // events in a request being sent
	Accepted         int64 // events accepted by Write
	Indexed          int64 // created (2xx)
	Duplicates       int64 // 409 on create: already indexed, counted as delivered
	Retried          int64 // event re-sends
	DeadLettered     int64 // events written to the dead letter
	DeadLetterFailed int64 // events the dead letter refused too: lost, reported
	Dropped          int64 // events refused because the queue was full
	Rejected         int64 // invalid lines refused by Write (also dead-lettered)

	// Disk queue (Config.QueueDir): events found at start and sent again,
	// fsyncs of its segments and the events they made durable (÷: the
	// group-commit size), its bytes on disk, undelivered events left in it
	// at Close (sent at the next start).
	DiskRecovered    int64
	DiskFsyncs       int64
	DiskFsyncRecords int64
	DiskBytes        int64
	DiskLeft         int64

	Requests      int64 // bulk requests sent
	RequestErrors int64 // requests that failed as a whole
	BytesRaw      int64 // request bytes before compression
	BytesSent     int64 // request bytes after compression
	LatencyTotal  time.Duration
	LatencyMax    time.Duration
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	qb := s.pendingBytes
	s.mu.Unlock()
	var dq struct{ rec, fsyncs, fsyncRecs, bytes int64 }
	if s.dq != nil {
		d := s.dq.Stats()
		dq.rec, dq.fsyncs, dq.fsyncRecs, dq.bytes = int64(s.dqRecovery.Records), d.Fsyncs, d.FsyncRecords, d.DiskBytes
	}
	return Stats{
		DiskRecovered:    dq.rec,
		DiskFsyncs:       dq.fsyncs,
		DiskFsyncRecords: dq.fsyncRecs,
		DiskBytes:        dq.bytes,
		DiskLeft:         s.st.leftOnDisk.Load(),
		Queued:           s.st.queued.Load(),
		QueuedBytes:      qb,
		InFlight:         s.st.inFlight.Load(),
		Accepted:         s.st.accepted.Load(),
		Indexed:          s.st.indexed.Load(),
		Duplicates:       s.st.dups.Load(),
		Retried:          s.st.retried.Load(),
		DeadLettered:     s.st.dead.Load(),
		DeadLetterFailed: s.st.deadFailed.Load(),
		Dropped:          s.st.dropped.Load(),
		Rejected:         s.st.rejected.Load(),
		Requests:         s.st.requests.Load(),
		RequestErrors:    s.st.reqErrors.Load(),
		BytesRaw:         s.st.bytesRaw.Load(),
		BytesSent:        s.st.bytesSent.Load(),
		LatencyTotal:     time.Duration(s.st.latTotal.Load()),
		LatencyMax:       time.Duration(s.st.latMax.Load()),
	}
}

// String renders the stats on one line (never contains credentials).
func (st Stats) String() string {
	avg := time.Duration(0)
	if st.Requests > 0 {
		avg = st.LatencyTotal / time.Duration(st.Requests)
	}
	return fmt.Sprintf("queued=%d queued_bytes=%d in_flight=%d accepted=%d indexed=%d duplicates=%d retried=%d dead_lettered=%d dead_letter_failed=%d dropped=%d rejected=%d requests=%d request_errors=%d bytes_raw=%d bytes_sent=%d latency_avg=%s latency_max=%s",
		st.Queued, st.QueuedBytes, st.InFlight, st.Accepted, st.Indexed, st.Duplicates, st.Retried, st.DeadLettered, st.DeadLetterFailed, st.Dropped, st.Rejected, st.Requests, st.RequestErrors, st.BytesRaw, st.BytesSent, avg, st.LatencyMax)
}
