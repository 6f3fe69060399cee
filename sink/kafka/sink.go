package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	logctx "github.com/pipelog/pipelog/context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipelog/pipelog/sink"
)

var (
	_ sink.EntryWriter  = (*Sink)(nil)
	_ sink.LossReporter = (*Sink)(nil)
)

// Record header names, the ones package logctx (context/) reads and writes.
const (
	HeaderTraceparent   = logctx.HeaderTraceparent
	HeaderCorrelationID = logctx.HeaderCorrelationID
)

// Dead-letter error types the sink itself assigns; a record the broker
// refused keeps the Kafka error name (MESSAGE_TOO_LARGE, ...).
const (
	dlInvalidLine      = "pipelog_invalid_line"
	dlRetriesExhausted = "pipelog_retries_exhausted"
	dlCloseDeadline    = "pipelog_close_deadline"
	dlDeliveryFailed   = "pipelog_delivery_failed"
)

// Sink produces each line as one record to a Kafka topic. See the package
// comment for what it promises.
type Sink struct {
	cfg     Config
	cl      *kgo.Client
	fields  fieldSet
	dl      sink.Sink
	ownDL   bool
	onError func(error)
	recs    sync.Pool

	// promiseFn is s.promise, made once: a method value made per
	// TryProduce would be an allocation per event.
	promiseFn func(*kgo.Record, error)
	// keyFromEntry: KeyField is one WriteEntry can take from a
	// sink.Entry (event.id, trace.id), so a Logger's line is not scanned.
	keyFromEntry bool

	q queue

	mu       sync.Mutex
	closing  bool // Close stopped retrying: every failure now dead-letters
	retrying map[*rec]*time.Timer
	retries  sync.WaitGroup // scheduled re-sends

	repMu      sync.Mutex
	repLast    time.Time
	repSkipped int

	// Counters. Write adds to accepted, franz-go's promise goroutine to
	// delivered, on every event: they live on cache lines of their own.
	st struct {
		_         [64]byte
		accepted  atomic.Int64
		_         [56]byte
		delivered atomic.Int64
		_         [56]byte
		retried, dead, deadFailed, dropped, rejected,
		requests, reqErrors, batches, bytesRaw, bytesSent, latTotal, latMax,
		closeDead atomic.Int64
	}
}

// rec is a pooled record with the storage its slices point into. r is the
// first field, so the *kgo.Record a promise receives is the *rec.
type rec struct {
	r        kgo.Record
	buf      []byte // value, then key, then header values
	hdr      [2]kgo.RecordHeader
	size     int64 // what the record counts against the queue
	attempts int
}

func recOf(r *kgo.Record) *rec { return (*rec)(unsafe.Pointer(r)) }

// New returns a running sink. It does not wait for the brokers: an
// unreachable cluster delays delivery, never construction.
func New(cfg Config) (*Sink, error) {
	cfg.setDefaults()
	s := &Sink{cfg: cfg, fields: newFieldSet(cfg.KeyField), retrying: map[*rec]*time.Timer{}}
	opts, err := cfg.clientOptions(hooks{s})
	if err != nil {
		return nil, err
	}
	s.dl, s.ownDL = sink.DeadLetterOr(cfg.DeadLetter, cfg.DeadLetterPath)
	s.onError = sink.ReportOr(cfg.OnError)
	s.q.init(cfg)
	s.recs.New = func() any { return new(rec) }
	s.promiseFn = s.promise
	s.keyFromEntry = cfg.KeyField == "event.id" || cfg.KeyField == "trace.id"
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("sink: kafka: %w", err)
	}
	s.cl = cl
	return s, nil
}

// Topic is the topic the sink produces to.
func (s *Sink) Topic() string { return s.cfg.Topic }

// Client is the franz-go client the sink produces with, for inspection
// (metadata, buffered counts). Producing through it bypasses the sink's
// accounting; closing it is the sink's job.
func (s *Sink) Client() *kgo.Client { return s.cl }

// WriteEntry produces e.Line, keyed by e.ID when KeyField is event.id. The
// line is trusted to be one JSON object, as a Logger encodes it. When the
// entry carries the trace fields (e.Traced) and KeyField is event.id or
// trace.id, the key and headers come from the entry and the line is not
// parsed (only searched for a correlation_id label the event set itself,
// which sends it down Write's path).
func (s *Sink) WriteEntry(e *sink.Entry) error {
	var ti traceInfo
	ti.ofEntry(e, s.keyFromEntry, &s.fields)
	return s.produce(e.Line, &ti)
}

// ofEntry sets ti for e: from what the Logger knows (e.Traced) when
// fromEntry (KeyField is event.id or trace.id) and the line holds no
// correlation label of its own, else by reading the line.
func (ti *traceInfo) ofEntry(e *sink.Entry, fromEntry bool, fs *fieldSet) {
	key := fs[fKey]
	switch {
	case e.Traced && fromEntry && correlationAsGiven(e):
		ti.fromEntry(e, key)
	case key == "event.id":
		ti.scan(e.Line, e.ID, fs)
	default:
		ti.scan(e.Line, nil, fs)
	}
}

// fromEntry sets ti from what a Logger knows of e (e.Traced), for
// keyField event.id or trace.id: what scan would read from e.Line.
func (ti *traceInfo) fromEntry(e *sink.Entry, keyField string) {
	*ti = traceInfo{key: e.ID, trace: view(e.TraceID), span: view(e.SpanID)}
	if keyField == "trace.id" {
		ti.key = ti.trace
	}
	// The line holds labels.correlation_id only when it differs from
	// trace.id.
	if e.CorrelationID != e.TraceID {
		ti.corr = view(e.CorrelationID)
	}
}

// correlationAsGiven reports whether e.Line's labels.correlation_id is
// the one e implies (e.CorrelationID when it differs from e.TraceID, else
// none). An event's own label of that name (an event field, a context or
// fixed label) is written too, or instead: the line is read then, as
// Write reads it. The checks look for the key's bytes, which a string
// value cannot hold unescaped.
func correlationAsGiven(e *sink.Entry) bool {
	i := bytes.Index(e.Line, []byte(`correlation_id"`))
	if i < 0 {
		return true
	}
	if e.CorrelationID == "" || e.CorrelationID == e.TraceID {
		return false
	}
	const key = `"correlation_id":"`
	i = bytes.Index(e.Line, []byte(key))
	if i < 0 {
		return false
	}
	v := e.Line[i+len(key):]
	return len(v) > len(e.CorrelationID) && string(v[:len(e.CorrelationID)]) == e.CorrelationID && v[len(e.CorrelationID)] == '"'
}

// view is s as bytes, for reading only (fill copies them).
func view(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// Write produces a line from elsewhere, after checking that it is one JSON
// object; a line that is not is dead-lettered and ErrInvalidLine returned.
func (s *Sink) Write(p []byte) error {
	line := bytes.TrimRight(p, "\r\n")
	if t := bytes.TrimLeft(line, " \t"); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		if s.q.closed.Load() {
			return sink.ErrClosed
		}
		s.st.rejected.Add(1)
		s.deadLetterRaw(p)
		return ErrInvalidLine
	}
	var ti traceInfo
	ti.scan(line, nil, &s.fields)
	return s.produce(line, &ti) // without its "\r\n": a record's value is the line alone
}

// produce accepts line (with or without its '\n') for delivery, keyed and
// headed from ti.
func (s *Sink) produce(line []byte, ti *traceInfo) error {
	line = bytes.TrimRight(line, "\n")
	r := s.recs.Get().(*rec)
	r.fill(line, ti)
	if err := s.q.reserve(r.size); err != nil {
		s.recs.Put(r)
		if errors.Is(err, ErrQueueFull) {
			s.st.dropped.Add(1)
			s.report(err)
		}
		return err
	}
	s.st.accepted.Add(1)
	s.cl.TryProduce(context.Background(), &r.r, s.promiseFn)
	s.q.writers.Add(-1)
	return nil
}

// release resolves r: it no longer counts against the queue.
func (s *Sink) release(r *rec) {
	s.q.release(r.size)
	s.recs.Put(r)
}

// promise is called by franz-go, serially, once per produced record.
func (s *Sink) promise(kr *kgo.Record, err error) {
	r := recOf(kr)
	if err == nil {
		s.st.delivered.Add(1)
		s.release(r)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	var ke *kerr.Error
	switch {
	case closing || errors.Is(err, kgo.ErrClientClosed):
		s.st.closeDead.Add(1)
		s.deadLetter(r, dlCloseDeadline, "not delivered when Close's context ended: "+err.Error())
	case errors.Is(err, kerr.MessageTooLarge) && r.size > int64(s.cfg.MaxBatchBytes):
		s.deadLetter(r, kerr.MessageTooLarge.Message, fmt.Sprintf("record of %d bytes is larger than MaxBatchBytes (%d): %v", r.size, s.cfg.MaxBatchBytes, err))
	case retriable(err):
		if r.attempts > s.cfg.MaxRetries {
			s.deadLetter(r, dlRetriesExhausted, fmt.Sprintf("after %d attempts: %v", r.attempts, err))
			return
		}
		s.retry(r)
	case errors.As(err, &ke):
		s.deadLetter(r, ke.Message, err.Error())
	default:
		s.deadLetter(r, dlDeliveryFailed, err.Error())
	}
}

// retriable: errors franz-go gave up on that another attempt may cure. A
// MESSAGE_TOO_LARGE for a record that fits a batch alone is one: the broker
// refused the batch it was in.
func retriable(err error) bool {
	return kerr.IsRetriable(err) || errors.Is(err, kerr.MessageTooLarge) ||
		errors.Is(err, kgo.ErrRecordRetries) || errors.Is(err, kgo.ErrRecordTimeout) ||
		errors.Is(err, kgo.ErrMaxBuffered) || errors.Is(err, kerr.UnknownTopicID)
}

// retry produces r again after a backoff, unless Close comes first.
func (s *Sink) retry(r *rec) {
	d := s.cfg.RetryBackoffMin << min(r.attempts-1, 20)
	d = min(d, s.cfg.RetryBackoffMax)
	d = d/2 + rand.N(d/2+1)
	r.attempts++
	s.st.retried.Add(1)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.st.closeDead.Add(1)
		s.deadLetter(r, dlCloseDeadline, "not delivered when Close's context ended")
		return
	}
	s.retries.Add(1)
	s.retrying[r] = time.AfterFunc(d, func() {
		defer s.retries.Done()
		s.mu.Lock()
		_, mine := s.retrying[r]
		delete(s.retrying, r)
		s.mu.Unlock()
		if mine {
			s.cl.TryProduce(context.Background(), &r.r, s.promiseFn)
		}
	})
	s.mu.Unlock()
}

// Flush waits until every event accepted so far (and any accepted
// meanwhile) is delivered or dead-lettered, or ctx ends. Undelivered events
// stay queued: the sink keeps trying; Close dead-letters.
func (s *Sink) Flush(ctx context.Context) error {
	if s.q.closed.Load() {
		return sink.ErrClosed
	}
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("sink: kafka: flush: %w", err)
	}
	return s.q.waitDrained(ctx)
}

// Close stops accepting events, delivers what is queued until ctx ends,
// then closes the client, which fails everything still undelivered: those
// events are dead-lettered (one that was in flight may have arrived too).
// It returns an error when events were dead-lettered at close or dropped.
func (s *Sink) Close(ctx context.Context) error {
	if !s.q.close() {
		return nil
	}
	if s.cl.Flush(ctx) == nil {
		_ = s.q.waitDrained(ctx)
	}

	s.mu.Lock()
	s.closing = true
	var stopped []*rec
	for r, t := range s.retrying {
		if t.Stop() {
			stopped = append(stopped, r)
			delete(s.retrying, r)
		}
	}
	s.mu.Unlock()
	for _, r := range stopped {
		s.retries.Done()
		s.st.closeDead.Add(1)
		s.deadLetter(r, dlCloseDeadline, "not delivered when Close's context ended (waiting to retry)")
	}
	s.cl.Close()
	s.retries.Wait()
	// franz-go calls the promises of what Close failed from its own
	// goroutine, possibly after Close returned: every accepted event is
	// resolved once they have all run.
	_ = s.q.waitDrained(context.Background())

	var errs []error
	if n := s.st.closeDead.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("sink: kafka: %d event(s) undelivered at close, dead-lettered", n))
	}
	if n := s.st.dropped.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("sink: kafka: %d event(s) dropped: queue full", n))
	}
	s.flushReports()
	if s.ownDL {
		if err := s.dl.Close(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Losses reports what the sink accepted and did not deliver.
func (s *Sink) Losses() sink.Losses {
	l := sink.Losses{
		Dropped:      uint64(s.st.dropped.Load()),
		DeadLettered: uint64(s.st.dead.Load()),
		Undelivered:  uint64(s.st.deadFailed.Load()),
	}
	if f, ok := s.dl.(*sink.DeadLetterFile); ok {
		l.DeadLetter = f.Path()
	}
	return l
}
