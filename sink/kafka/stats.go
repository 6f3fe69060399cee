package kafka

import (
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Stats is a snapshot of the sink's counters, in the shape of the
// Elasticsearch sink's: Delivered for its Indexed, produce requests for its
// bulk requests.
type Stats struct {
	Queued           int64 // events accepted and not yet delivered or dead-lettered (incl. in flight, waiting for retry)
	QueuedBytes      int64 // their bytes (the queue bound)
	Accepted         int64 // events accepted by Write
	Delivered        int64 // acknowledged by the in-sync replicas
	Retried          int64 // re-sends by the sink (franz-go's own retries are not counted here)
	DeadLettered     int64 // events written to the dead letter
	DeadLetterFailed int64 // events the dead letter refused too: lost, reported
	Dropped          int64 // events refused because the queue was full
	Rejected         int64 // invalid lines refused by Write (also dead-lettered)

	Requests      int64 // produce requests sent (franz-go's retries included)
	RequestErrors int64 // produce requests that failed as a whole (connection, timeout)
	Batches       int64 // record batches the brokers took
	BytesRaw      int64 // batch bytes before compression
	BytesSent     int64 // batch bytes after compression
	LatencyTotal  time.Duration
	LatencyMax    time.Duration
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	q, qb := s.q.evts.Load(), s.q.bytes.Load()
	return Stats{
		Queued:           q,
		QueuedBytes:      qb,
		Accepted:         s.st.accepted.Load(),
		Delivered:        s.st.delivered.Load(),
		Retried:          s.st.retried.Load(),
		DeadLettered:     s.st.dead.Load(),
		DeadLetterFailed: s.st.deadFailed.Load(),
		Dropped:          s.st.dropped.Load(),
		Rejected:         s.st.rejected.Load(),
		Requests:         s.st.requests.Load(),
		RequestErrors:    s.st.reqErrors.Load(),
		Batches:          s.st.batches.Load(),
		BytesRaw:         s.st.bytesRaw.Load(),
		BytesSent:        s.st.bytesSent.Load(),
		LatencyTotal:     time.Duration(s.st.latTotal.Load()),
		LatencyMax:       time.Duration(s.st.latMax.Load()),
	}
}

// String renders the stats on one line (never contains credentials).
func (st Stats) String() string {
	avg := time.Duration(0)
	if n := st.Requests - st.RequestErrors; n > 0 {
		avg = st.LatencyTotal / time.Duration(n)
	}
	return fmt.Sprintf("queued=%d queued_bytes=%d accepted=%d delivered=%d retried=%d dead_lettered=%d dead_letter_failed=%d dropped=%d rejected=%d requests=%d request_errors=%d batches=%d bytes_raw=%d bytes_sent=%d latency_avg=%s latency_max=%s",
		st.Queued, st.QueuedBytes, st.Accepted, st.Delivered, st.Retried, st.DeadLettered, st.DeadLetterFailed, st.Dropped, st.Rejected, st.Requests, st.RequestErrors, st.Batches, st.BytesRaw, st.BytesSent, avg, st.LatencyMax)
}

// report passes err to OnError, at most once a second; the errors skipped
// meanwhile are counted in the next report (and at Close).
func (s *Sink) report(err error) {
	s.repMu.Lock()
	now := time.Now()
	if !s.repLast.IsZero() && now.Sub(s.repLast) < time.Second {
		s.repSkipped++
		s.repMu.Unlock()
		return
	}
	skipped := s.repSkipped
	s.repSkipped = 0
	s.repLast = now
	s.repMu.Unlock()
	if skipped > 0 {
		err = fmt.Errorf("%w (and %d more error(s) in the last second)", err, skipped)
	}
	s.onError(err)
}

func (s *Sink) flushReports() {
	s.repMu.Lock()
	n := s.repSkipped
	s.repSkipped = 0
	s.repMu.Unlock()
	if n > 0 {
		s.onError(fmt.Errorf("sink: kafka: %d more error(s) not reported separately; see Stats and the dead letter", n))
	}
}

// hooks feeds Stats from franz-go.
type hooks struct{ s *Sink }

var (
	_ kgo.HookBrokerE2E           = hooks{}
	_ kgo.HookBrokerConnect       = hooks{}
	_ kgo.HookProduceBatchWritten = hooks{}
)

// OnBrokerConnect reports a failed connection: franz-go retries it, and
// without this an unreachable or refusing cluster would be silent until
// Close.
func (h hooks) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil && !h.s.q.closed.Load() { // not the noise of Close
		h.s.report(fmt.Errorf("sink: kafka: connecting to %s:%d (retrying): %w", meta.Host, meta.Port, err))
	}
}

func (h hooks) OnBrokerE2E(meta kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key != 0 { // Produce
		return
	}
	st := &h.s.st
	st.requests.Add(1)
	if err := e2e.Err(); err != nil {
		st.reqErrors.Add(1)
		if h.s.q.closed.Load() {
			return
		}
		h.s.report(fmt.Errorf("sink: kafka: produce request to %s:%d failed (retrying): %w", meta.Host, meta.Port, err))
		return
	}
	d := int64(e2e.DurationE2E())
	st.latTotal.Add(d)
	for {
		m := st.latMax.Load()
		if d <= m || st.latMax.CompareAndSwap(m, d) {
			break
		}
	}
}

func (h hooks) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	st := &h.s.st
	st.batches.Add(1)
	st.bytesRaw.Add(int64(m.UncompressedBytes))
	st.bytesSent.Add(int64(m.CompressedBytes))
}
