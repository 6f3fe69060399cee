package pipelogotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ExporterStats is what RegisterExporter observes of an asynchronous sink:
// the counters the Elasticsearch sink keeps (elasticsearch.Stats; see
// esmetrics), in a form any exporter can fill. Counters only grow; Queued,
// QueuedBytes and InFlight go up and down.
type ExporterStats struct {
	Queued      int64 // accepted, not yet in a request
	QueuedBytes int64 // bytes of everything unresolved
	InFlight    int64 // in a request being sent

	Delivered        int64 // delivered (duplicates of already delivered events included)
	DeadLettered     int64 // refused by the destination, written to the dead letter
	DeadLetterFailed int64 // refused by the dead letter too: lost
	Dropped          int64 // refused because the queue was full
	Invalid          int64 // refused by Write as invalid
	Retried          int64 // re-sends

	Requests      int64 // requests sent
	RequestErrors int64 // requests that failed as a whole
	RequestTime   time.Duration
	BytesRaw      int64 // request bytes before compression
	BytesSent     int64 // request bytes as sent
}

// RegisterExporter creates the exporter instruments (see the package
// comment) on meter, observing stats, with the attribute
// pipelog.exporter.name = name. stats is called once per collection.
func RegisterExporter(meter metric.Meter, name string, stats func() ExporterStats) (metric.Registration, error) {
	if stats == nil {
		return nil, errors.New("pipelogotel: RegisterExporter: nil stats func")
	}
	b := builder{meter: meter}
	exported := b.counter("pipelog.exporter.log.exported", unitRecords, "Events the exporter finished with; error.type says why one was not delivered.")
	inflight := b.upDown("pipelog.exporter.log.inflight", unitRecords, "Events in a request being sent.")
	retried := b.counter("pipelog.exporter.log.retried", unitRecords, "Events sent again after a retryable failure.")
	queued := b.upDown("pipelog.exporter.queue.size", unitRecords, "Events accepted and not yet in a request.")
	queuedBytes := b.upDown("pipelog.exporter.queue.bytes", "By", "Bytes of every event not yet resolved (the queue's bound).")
	requests := b.counter("pipelog.exporter.requests", "{request}", "Requests sent; error.type=failed for those that failed as a whole.")
	reqTime := b.floatCounter("pipelog.exporter.request.time", "s", "Time spent in requests.")
	bytes := b.counter("pipelog.exporter.bytes", "By", "Request bytes, before compression (pipelog.compressed=false) and as sent (true).")
	if b.err != nil {
		return nil, b.err
	}
	base := []attribute.KeyValue{KeyExporterName.String(name)}
	o := outcomes{base: base}
	set := metric.WithAttributes(base...)
	raw := metric.WithAttributes(append(base[:1:1], KeyCompressed.Bool(false))...)
	sent := metric.WithAttributes(append(base[:1:1], KeyCompressed.Bool(true))...)
	return meter.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		st := stats()
		o.observe(ob, exported, pos(st.Delivered), "")
		o.observe(ob, exported, pos(st.DeadLettered), "dead_lettered")
		o.observe(ob, exported, pos(st.DeadLetterFailed), "dead_letter_failed")
		o.observe(ob, exported, pos(st.Dropped), "queue_full")
		o.observe(ob, exported, pos(st.Invalid), "invalid")
		ob.ObserveInt64(inflight, st.InFlight, set)
		ob.ObserveInt64(queued, st.Queued, set)
		ob.ObserveInt64(queuedBytes, st.QueuedBytes, set)
		ob.ObserveInt64(retried, st.Retried, set)
		failed := min(max(st.RequestErrors, 0), max(st.Requests, 0))
		o.observe(ob, requests, pos(st.Requests-failed), "")
		o.observe(ob, requests, pos(failed), "failed")
		ob.ObserveFloat64(reqTime, st.RequestTime.Seconds(), set)
		ob.ObserveInt64(bytes, st.BytesRaw, raw)
		ob.ObserveInt64(bytes, st.BytesSent, sent)
		return nil
	}, b.observables...)
}

// pos is v as the unsigned count outcomes takes (a negative one as 0).
func pos(v int64) uint64 { return uint64(max(v, 0)) }
