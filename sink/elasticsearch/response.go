package elasticsearch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

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
