package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Dead-letter error types the sink itself assigns (per-item rejections keep
// the type Elasticsearch reported, e.g. mapper_parsing_exception).
const (
	dlInvalidLine      = "pipelog_invalid_line"
	dlRetriesExhausted = "pipelog_retries_exhausted"
	dlCloseDeadline    = "pipelog_close_deadline"
	dlRequestRejected  = "pipelog_request_rejected"
	dlTooLarge         = "pipelog_request_too_large"
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
		s.mu.Lock()
		for len(s.queue) == 0 && !s.stopping {
			s.workCond.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		b := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
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
		switch {
		case out.err != nil && isProductCheckErr(out.err):
			s.st.reqErrors.Add(1)
			lastReason = "server did not identify as Elasticsearch (missing X-Elastic-Product header); the request may have been processed"
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
			if !w.sleep(netAttempt) {
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

// handleItems resolves the items of a 2xx response. It returns reason != ""
// when the response cannot be trusted (b untouched), otherwise the batch of
// items to retry (nil when all are resolved).
func (w *esWorker) handleItems(b *esBatch, body []byte) (reason string, rest *esBatch) {
	s := w.s
	sum, err := scanBulkResponse(body)
	if err != nil {
		return "unparseable bulk response (" + err.Error() + ")", b
	}
	if sum.items != len(b.items) {
		return fmt.Sprintf("bulk response has %d items for %d sent", sum.items, len(b.items)), b
	}
	if !sum.errors {
		s.st.indexed.Add(int64(len(b.items)))
		s.resolveBatch(b, len(b.items))
		putBatch(b)
		return "", nil
	}
	var full struct {
		Items []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &full); err != nil || len(full.Items) != len(b.items) {
		return "unparseable bulk response items", b
	}
	var ok, retry []int
	type dead struct {
		i      int
		status int
		typ    string
		reason string
	}
	var deads []dead
	for i, m := range full.Items {
		var st int
		var e json.RawMessage
		for _, r := range m {
			st, e = r.Status, r.Error
		}
		switch {
		case st >= 200 && st < 300:
			s.st.indexed.Add(1)
			ok = append(ok, i)
		case st == http.StatusConflict:
			s.st.dups.Add(1)
			ok = append(ok, i)
		case st == 429 || st >= 500:
			if int(b.items[i].retries) >= s.cfg.MaxRetries {
				typ, r := itemError(e)
				deads = append(deads, dead{i, st, dlRetriesExhausted, fmt.Sprintf("gave up after %d attempts: HTTP %d %s: %s", s.cfg.MaxRetries+1, st, typ, r)})
			} else {
				b.items[i].retries++
				retry = append(retry, i)
			}
		default:
			typ, r := itemError(e)
			deads = append(deads, dead{i, st, typ, r})
		}
	}
	if len(deads) > 0 {
		for _, d := range deads {
			s.deadLetterBatch(b, []int{d.i}, d.status, d.typ, d.reason)
		}
		s.report(fmt.Errorf("sink: elasticsearch: %d event(s) rejected by the server and dead-lettered (first: HTTP %d %s: %s)", len(deads), deads[0].status, deads[0].typ, deads[0].reason))
	}
	if len(ok) > 0 {
		s.resolveIdx(b, ok)
	}
	if len(retry) == 0 {
		putBatch(b)
		return "", nil
	}
	nb := subBatch(b, retry)
	putBatch(b)
	return "", nb
}

func itemError(raw json.RawMessage) (typ, reason string) {
	if len(raw) == 0 {
		return "unknown", "no error given"
	}
	var e struct {
		Type     string `json:"type"`
		Reason   string `json:"reason"`
		CausedBy *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"caused_by"`
	}
	if json.Unmarshal(raw, &e) == nil && (e.Type != "" || e.Reason != "") {
		if e.CausedBy != nil && e.CausedBy.Reason != "" {
			e.Reason += " (caused by " + e.CausedBy.Type + ": " + e.CausedBy.Reason + ")"
		}
		return e.Type, e.Reason
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return "error", str
	}
	return "error", truncate(string(raw), 512)
}

// errorReason extracts error.type/reason from an Elasticsearch error body, or
// returns the start of the body.
func errorReason(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		t, r := itemError(e.Error)
		return t + ": " + r
	}
	if len(body) == 0 {
		return "(empty body)"
	}
	return truncate(string(body), 512)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

func isProductCheckErr(err error) bool {
	return strings.Contains(err.Error(), "the server is not Elasticsearch")
}

// send performs one bulk request.
func (w *esWorker) send(b *esBatch) esOutcome {
	s := w.s
	body := b.buf
	switch {
	case b.z != nil: // compressed as the events were written
		body = b.z.Bytes()
	case w.gz != nil:
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
	d = min(d, s.cfg.RetryBackoffMax)
	d = d/2 + rand.N(d/2+1) // jitter in [d/2, d]
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.abortCtx.Done():
		return false
	}
}

func maxRetries(b *esBatch) int {
	m := 0
	for i := range b.items {
		m = max(m, int(b.items[i].retries))
	}
	return m
}

func allIdx(b *esBatch) []int {
	idx := make([]int, len(b.items))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// subBatch copies the items idx of b into a new batch.
func subBatch(b *esBatch, idx []int) *esBatch {
	ensureRaw(b)
	nb := getBatch()
	for _, i := range idx {
		it := b.items[i]
		off := uint32(len(nb.buf)) - it.start
		nb.buf = append(nb.buf, b.buf[it.start:it.end]...)
		it.start += off
		it.doc += off
		it.end += off
		it.idStart += off
		it.idEnd += off
		nb.items = append(nb.items, it)
	}
	nb.rawLen = len(nb.buf)
	return nb
}

func splitBatch(b *esBatch) []*esBatch {
	half := len(b.items) / 2
	lo, hi := make([]int, 0, half), make([]int, 0, len(b.items)-half)
	for i := range b.items {
		if i < half {
			lo = append(lo, i)
		} else {
			hi = append(hi, i)
		}
	}
	a, c := subBatch(b, lo), subBatch(b, hi)
	putBatch(b)
	return []*esBatch{c, a} // a runs first (stack)
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

// deadLetterBatch writes items idx of b to the dead letter and resolves them.
func (s *Sink) deadLetterBatch(b *esBatch, idx []int, status int, typ, reason string) {
	ensureRaw(b)
	reason = s.redact(errors.New(reason)).Error()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var line []byte
	failed := 0
	var firstErr error
	for _, i := range idx {
		it := &b.items[i]
		line = appendDeadLetter(line[:0], now, status, typ, reason, s.index,
			b.buf[it.idStart:it.idEnd], int(it.retries)+1, b.buf[it.doc:it.end-1], true)
		if err := s.dl.Write(line); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	s.st.dead.Add(int64(len(idx) - failed))
	if failed > 0 {
		s.st.deadFailed.Add(int64(failed))
		s.report(fmt.Errorf("sink: elasticsearch: %d event(s) LOST: the dead letter refused them: %w (reason they were dead-lettered: %s)", failed, firstErr, reason))
	}
	s.resolveIdx(b, idx)
}

// deadLetterRaw dead-letters a line Write refused (never queued).
func (s *Sink) deadLetterRaw(line []byte, reason string) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	out := appendDeadLetter(nil, now, 0, dlInvalidLine, reason, s.index, nil, 0, line, false)
	if err := s.dl.Write(out); err != nil {
		s.st.deadFailed.Add(1)
		s.report(fmt.Errorf("sink: elasticsearch: invalid line LOST: the dead letter refused it: %w", err))
		return
	}
	s.st.dead.Add(1)
	s.report(fmt.Errorf("%w: %s (dead-lettered)", ErrInvalidLine, reason))
}

func appendDeadLetter(dst []byte, now string, status int, typ, reason, index string, id []byte, attempts int, doc []byte, docIsJSON bool) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = append(dst, now...)
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"error":{"type":`...)
	dst = appendJSONString(dst, typ)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, reason)
	dst = append(dst, `},"_index":`...)
	dst = appendJSONString(dst, index)
	if id != nil {
		dst = append(dst, `,"_id":"`...)
		dst = append(dst, id...) // already JSON-escaped
		dst = append(dst, '"')
	}
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(attempts), 10)
	if docIsJSON {
		dst = append(dst, `,"document":`...)
		dst = append(dst, doc...)
	} else {
		dst = append(dst, `,"document_raw":`...)
		dst = appendJSONString(dst, string(doc))
	}
	return append(dst, "}\n"...)
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(strings.ToValidUTF8(s, "\uFFFD"))
	return append(dst, b...)
}
