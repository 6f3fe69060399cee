package elasticsearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
)

// esWorker owns the per-goroutine buffers of one bulk worker.
type esWorker struct {
	s    *Sink
	gz   *gzip.Writer
	zbuf bytes.Buffer
	resp bytes.Buffer
}

func (s *Sink) worker() {
	defer s.workers.Done()
	w := &esWorker{s: s}
	if !s.cfg.DisableCompression {
		w.gz, _ = gzip.NewWriterLevel(&w.zbuf, s.cfg.CompressionLevel)
	}
	for {
		s.qmu.Lock()
		for len(s.queue) == 0 && !s.stopping {
			s.workCond.Wait()
		}
		if len(s.queue) == 0 {
			s.qmu.Unlock()
			return
		}
		b := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.qmu.Unlock()
		n := int64(len(b.items))
		s.st.queued.Add(-n)
		s.st.inFlight.Add(n)
		stack := []*esBatch{b}
		for len(stack) > 0 {
			b := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			stack = append(stack, w.run(b)...)
		}
	}
}

// outcome of one bulk request.
type esOutcome struct {
	err    error // transport or body-read failure
	status int
	body   []byte
}

// run delivers b, retrying as configured, until every item is resolved. It
// returns the halves of b when the server answered 413.
func (w *esWorker) run(b *esBatch) (split []*esBatch) {
	s := w.s
	netAttempt := 0
	lastReason := ""
	for {
		if s.abortCtx.Err() != nil {
			if b = s.backToDisk(b); b == nil {
				return nil
			}
			reason := "sink closed before the event could be delivered"
			if lastReason != "" {
				reason += "; last failure: " + lastReason
			}
			s.st.closeDead.Add(int64(len(b.items)))
			s.deadLetterBatch(b, allIdx(b), 0, dlCloseDeadline, reason)
			putBatch(b)
			return nil
		}
		out := w.send(b)
		n := len(b.items)
		reason := s.permanentReason(out)
		if reason == "" && errors.Is(out.err, errNotElasticsearch) && errors.Is(s.Check(s.abortCtx), ErrPermanent) {
			reason = "the server is not Elasticsearch (no X-Elastic-Product header on the bulk answer nor on GET /); the request may have been processed; fix: check Addresses"
		}
		if reason != "" {
			s.st.reqErrors.Add(1)
			s.halt(reason)
			lastReason = reason
			if s.dq != nil && onDisk(b) {
				// Kept on disk; try again (once per RetryBackoffMax).
				w.sleepFor(s.cfg.RetryBackoffMax)
				continue
			}
			s.deadLetterBatch(b, allIdx(b), out.status, dlPermanent, reason)
			putBatch(b)
			return nil
		}
		switch {
		case errors.Is(out.err, errNotElasticsearch):
			s.st.reqErrors.Add(1)
			lastReason = out.err.Error()
			s.report(fmt.Errorf("sink: elasticsearch: bulk request of %d events: %s", n, lastReason))
			if b = w.ambiguous(b, 0, lastReason); b == nil {
				return nil
			}
		case out.err != nil || out.status == 429 || out.status == 502 || out.status == 503 || out.status == 504:
			s.st.reqErrors.Add(1)
			if s.abortCtx.Err() != nil { // canceled by Close: outcome unknown
				if lastReason == "" {
					lastReason = "request canceled at the close deadline, outcome unknown"
				}
				continue
			}
			if out.err != nil {
				lastReason = out.err.Error()
			} else {
				lastReason = "HTTP " + strconv.Itoa(out.status) + ": " + errorReason(out.body)
			}
			s.report(fmt.Errorf("sink: elasticsearch: bulk request of %d events failed, will retry: %s", n, lastReason))
			s.st.retried.Add(int64(n))
			// The backoff is shared: while the cluster is unreachable every
			// worker backs off further, and one success resets it.
			streak := int(s.failStreak.Add(1))
			if !w.sleep(max(netAttempt, streak-1)) {
				continue
			}
			netAttempt++
		case out.status == http.StatusRequestEntityTooLarge:
			s.st.reqErrors.Add(1)
			if n == 1 {
				s.deadLetterBatch(b, allIdx(b), 413, dlTooLarge, "HTTP 413: single event larger than the server accepts: "+errorReason(out.body))
				putBatch(b)
				return nil
			}
			w.sleep(int(b.splits)) // back off before the halves too
			return splitBatch(b)
		case out.status >= 500:
			s.st.reqErrors.Add(1)
			lastReason = "HTTP " + strconv.Itoa(out.status) + ": " + errorReason(out.body)
			s.report(fmt.Errorf("sink: elasticsearch: bulk request of %d events: %s", n, lastReason))
			if b = w.ambiguous(b, out.status, lastReason); b == nil {
				return nil
			}
		case out.status < 200 || out.status >= 300:
			s.st.reqErrors.Add(1)
			reason := "HTTP " + strconv.Itoa(out.status) + ": " + errorReason(out.body)
			s.report(fmt.Errorf("sink: elasticsearch: bulk request of %d events rejected, dead-lettering them: %s", n, reason))
			s.deadLetterBatch(b, allIdx(b), out.status, dlRequestRejected, reason)
			putBatch(b)
			return nil
		default:
			s.failStreak.Store(0)
			if s.haltV.Load() != nil {
				s.haltV.Store(nil) // fixed: a later permanent failure is reported again
			}
			var reason string
			reason, b = w.handleItems(b, out.body)
			if reason != "" { // whole response unusable
				s.st.reqErrors.Add(1)
				lastReason = reason
				s.report(fmt.Errorf("sink: elasticsearch: bulk request of %d events: %s", n, reason))
				if b = w.ambiguous(b, out.status, reason); b == nil {
					return nil
				}
				continue
			}
			if b == nil {
				return nil
			}
			s.st.retried.Add(int64(len(b.items)))
			if !w.sleep(maxRetries(b)) {
				continue
			}
		}
	}
}

// ambiguous handles a whole-request failure that counts against MaxRetries:
// items past the limit are dead-lettered; the rest are returned for another
// attempt after a backoff (nil when nothing is left).
func (w *esWorker) ambiguous(b *esBatch, status int, reason string) *esBatch {
	s := w.s
	var dead, keep []int
	for i := range b.items {
		if int(b.items[i].retries) >= s.cfg.MaxRetries {
			dead = append(dead, i)
		} else {
			b.items[i].retries++
			keep = append(keep, i)
		}
	}
	if len(dead) > 0 {
		s.deadLetterBatch(b, dead, status, dlRetriesExhausted, fmt.Sprintf("gave up after %d attempts: %s", s.cfg.MaxRetries+1, reason))
	}
	if len(keep) == 0 {
		putBatch(b)
		return nil
	}
	if len(dead) > 0 {
		nb := subBatch(b, keep)
		putBatch(b)
		b = nb
	}
	s.st.retried.Add(int64(len(b.items)))
	w.sleep(maxRetries(b) - 1)
	return b
}

// send performs one bulk request.
func (w *esWorker) send(b *esBatch) esOutcome {
	s := w.s
	body := b.buf
	switch {
	case b.z != nil: // compressed by the assembler
		body = b.z.Bytes()
	case w.gz != nil: // a batch made from another's raw lines
		w.zbuf.Reset()
		w.gz.Reset(&w.zbuf)
		_, _ = w.gz.Write(b.buf)
		_ = w.gz.Close()
		body = w.zbuf.Bytes()
	}
	s.st.bytesRaw.Add(int64(b.rawLen))
	s.st.bytesSent.Add(int64(len(body)))
	s.st.requests.Add(1)

	ctx, cancel := context.WithTimeout(s.abortCtx, s.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.bulkURL, bytes.NewReader(body))
	if err != nil {
		return esOutcome{err: err}
	}
	req.Header = s.header.Clone()
	start := time.Now()
	res, err := s.client.Perform(req)
	if err != nil {
		w.latency(start)
		return esOutcome{err: s.redact(fmt.Errorf("bulk request: %w", err))}
	}
	w.resp.Reset()
	_, err = w.resp.ReadFrom(res.Body)
	_ = res.Body.Close()
	w.latency(start)
	if err != nil {
		return esOutcome{err: s.redact(fmt.Errorf("reading bulk response (HTTP %d): %w", res.StatusCode, err))}
	}
	if res.StatusCode/100 == 2 && !s.productOK.Load() {
		// A 2xx without the header may come from a proxy or another
		// product, which may or may not have processed the request. As
		// the Elasticsearch clients do, check until one answer has it.
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			return esOutcome{err: errNotElasticsearch}
		}
		s.productOK.Store(true)
	}
	if cap(w.resp.Bytes()) > 32<<20 {
		defer func() { w.resp = bytes.Buffer{} }()
	}
	return esOutcome{status: res.StatusCode, body: w.resp.Bytes()}
}

func (w *esWorker) latency(start time.Time) {
	d := int64(time.Since(start))
	w.s.st.latTotal.Add(d)
	for {
		m := w.s.st.latMax.Load()
		if d <= m || w.s.st.latMax.CompareAndSwap(m, d) {
			return
		}
	}
}

// sleep waits the backoff for attempt (0-based); false if the sink was
// aborted meanwhile.
func (w *esWorker) sleep(attempt int) bool {
	s := w.s
	d := s.cfg.RetryBackoffMin
	for i := 0; i < attempt && d < s.cfg.RetryBackoffMax; i++ {
		d *= 2
	}
	return w.sleepFor(min(d, s.cfg.RetryBackoffMax))
}

// sleepFor waits about d (jittered in [d/2, d]); false if the sink was
// aborted meanwhile.
func (w *esWorker) sleepFor(d time.Duration) bool {
	s := w.s
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.abortCtx.Done():
		return false
	}
}
