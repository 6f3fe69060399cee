// Package esfake is an in-process fake of the Elasticsearch _bulk API for
// tests, with fault injection. It stores documents by _id and answers 409
// to a second create of the same _id, like a data stream does, so tests can
// check that every event is indexed exactly once.
package esfake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault describes how the fake answers one bulk request.
//
// Whole-request Status faults (429, 5xx, 413) store nothing. The ambiguous
// faults — Reset, Truncate, ShortItems, Garbage, NoProduct, Delay — store
// the documents first and then fail to tell the client, as a real cluster
// can.
type Fault struct {
	Status     int                        // answer the whole request with this status and an error body
	ItemStatus func(i int, id string) int // per-item status (0: normal); 409 stores the doc first
	Reset      bool                       // send part of the response, then close the connection
	Truncate   bool                       // announce a longer Content-Length than sent, then close
	ShortItems int                        // omit this many items from the response
	Garbage    bool                       // answer 200 with a body that is not JSON
	NoProduct  bool                       // omit the X-Elastic-Product header
	Delay      time.Duration              // wait this long before answering (after storing)
	Hook       func(r *http.Request)      // called with each bulk request (after faults are chosen)
	_          struct{}
}

// Server is the fake. Zero faults: every item is created (201) or is a
// duplicate (409).
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	docs       map[string][]byte
	creates    map[string]int
	indexes    map[string]int
	script     []Fault
	faultFn    func(n int) Fault
	requests   int
	malformed  int
	badCT      int
	badAction  int
	maxItems   int
	lastPath   string
	lastHeader http.Header
	itemsRecv  int
}

// New starts a fake on a loopback port. Call Close when done.
func New() *Server {
	s := &Server{docs: map[string][]byte{}, creates: map[string]int{}, indexes: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// NewTLS starts a fake serving HTTPS with a self-signed certificate (see
// Certificate / httptest.Server.Certificate for the CA and fingerprint).
func NewTLS() *Server {
	s := &Server{docs: map[string][]byte{}, creates: map[string]int{}, indexes: map[string]int{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	return s
}

// NewOn starts a fake on an existing listener (e.g. an address a client was
// already told about).
func NewOn(l net.Listener) *Server {
	s := &Server{docs: map[string][]byte{}, creates: map[string]int{}, indexes: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	_ = s.Server.Listener.Close()
	s.Server.Listener = l
	s.Server.Start()
	return s
}

// Script queues faults for the next bulk requests, one per request.
func (s *Server) Script(f ...Fault) {
	s.mu.Lock()
	s.script = append(s.script, f...)
	s.mu.Unlock()
}

// FaultFunc sets a fault chosen by bulk request number (1-based), used when
// the script is empty.
func (s *Server) FaultFunc(fn func(n int) Fault) {
	s.mu.Lock()
	s.faultFn = fn
	s.mu.Unlock()
}

// MaxItems makes the fake answer 413 to any request with more than n items.
func (s *Server) MaxItems(n int) {
	s.mu.Lock()
	s.maxItems = n
	s.mu.Unlock()
}

// Stats of the fake.
type Stats struct {
	Requests       int // bulk requests received
	ItemsReceived  int // action/document pairs received (all attempts)
	Malformed      int // document lines that were not valid JSON
	BadContentType int // requests without Content-Type application/x-ndjson
	BadAction      int // action lines that were not {"create":{"_index":..,"_id":..}}
	Docs           int // distinct _ids stored
	DoubleCreates  int // _ids created more than once (must be 0)
}

// Stats returns counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: s.requests, ItemsReceived: s.itemsRecv, Malformed: s.malformed, BadContentType: s.badCT, BadAction: s.badAction, Docs: len(s.docs)}
	for _, n := range s.creates {
		if n > 1 {
			st.DoubleCreates++
		}
	}
	return st
}

// Doc returns the stored document for id.
func (s *Server) Doc(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[id]
	return d, ok
}

// IDs returns every stored _id.
func (s *Server) IDs() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.docs))
	for id := range s.docs {
		out[id] = true
	}
	return out
}

// Indexes returns how many documents went to each _index.
func (s *Server) Indexes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.indexes {
		out[k] = v
	}
	return out
}

// LastRequest returns the path with query and the headers of the last bulk
// request.
func (s *Server) LastRequest() (string, http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == "") {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"name":"esfake","cluster_name":"esfake","version":{"number":"8.19.7","build_flavor":"default"},"tagline":"You Know, for Search"}`)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/_bulk") {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"unsupported"},"status":400}`, http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeErr(w, 400, "parse_exception", "bad gzip: "+err.Error())
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		writeErr(w, 400, "parse_exception", "reading body: "+err.Error())
		return
	}

	s.mu.Lock()
	s.requests++
	n := s.requests
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-ndjson") {
		s.badCT++
	}
	var f Fault
	if len(s.script) > 0 {
		f, s.script = s.script[0], s.script[1:]
	} else if s.faultFn != nil {
		f = s.faultFn(n)
	}
	maxItems := s.maxItems
	s.mu.Unlock()
	if f.Hook != nil {
		f.Hook(r)
	}

	type pair struct {
		index, id string
		doc       []byte
	}
	var pairs []pair
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		action := append([]byte(nil), sc.Bytes()...)
		if !sc.Scan() {
			s.mu.Lock()
			s.badAction++
			s.mu.Unlock()
			break
		}
		doc := append([]byte(nil), sc.Bytes()...)
		var a struct {
			Create *struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			} `json:"create"`
		}
		s.mu.Lock()
		if json.Unmarshal(action, &a) != nil || a.Create == nil || a.Create.Index == "" || a.Create.ID == "" {
			s.badAction++
		}
		if !json.Valid(doc) {
			s.malformed++
		}
		s.itemsRecv++
		s.mu.Unlock()
		p := pair{doc: doc}
		if a.Create != nil {
			p.index, p.id = a.Create.Index, a.Create.ID
		}
		pairs = append(pairs, p)
	}

	if f.Status != 0 {
		writeErr(w, f.Status, "injected", "injected whole-request failure "+strconv.Itoa(f.Status))
		return
	}
	if maxItems > 0 && len(pairs) > maxItems {
		writeErr(w, 413, "request_entity_too_large", fmt.Sprintf("%d items > %d", len(pairs), maxItems))
		return
	}

	var out bytes.Buffer
	out.WriteString(`{"took":1,"errors":`)
	items := make([][]byte, 0, len(pairs))
	anyErr := false
	s.mu.Lock()
	for i, p := range pairs {
		st := 0
		if f.ItemStatus != nil {
			st = f.ItemStatus(i, p.id)
		}
		var item string
		switch {
		case st == 409 || (st == 0 && s.docs[p.id] != nil):
			if s.docs[p.id] == nil { // injected: pretend it was indexed earlier
				s.store(p.index, p.id, p.doc)
			}
			anyErr = true
			item = fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[%s]: version conflict, document already exists (current version [1])"}}}`, p.index, p.id, p.id)
		case st == 0 || (st >= 200 && st < 300):
			s.store(p.index, p.id, p.doc)
			item = fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`, p.index, p.id, len(s.docs))
		case st == 400:
			anyErr = true
			item = fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":400,"error":{"type":"document_parsing_exception","reason":"[1:2] failed to parse field [x] of type [long]","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"abc\""}}}}`, p.index, p.id)
		case st == 429:
			anyErr = true
			item = fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}}`, p.index, p.id)
		default:
			anyErr = true
			item = fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":%d,"error":{"type":"injected_exception","reason":"injected item failure"}}}`, p.index, p.id, st)
		}
		items = append(items, []byte(item))
	}
	s.mu.Unlock()
	if f.ShortItems > 0 {
		items = items[:max(0, len(items)-f.ShortItems)]
	}
	out.WriteString(strconv.FormatBool(anyErr))
	out.WriteString(`,"items":[`)
	out.Write(bytes.Join(items, []byte(",")))
	out.WriteString(`]}`)

	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if !f.NoProduct {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case f.Garbage:
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `<html>502 Bad Gateway</html>`)
	case f.Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("esfake: no hijacker")
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: " + strconv.Itoa(out.Len()) + "\r\n\r\n")
		_, _ = buf.Write(out.Bytes()[:out.Len()/3])
		_ = buf.Flush()
		if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	case f.Truncate:
		w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
		w.WriteHeader(200)
		_, _ = w.Write(out.Bytes()[:out.Len()/2])
		// returning with fewer bytes than announced makes net/http close the connection
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	default:
		w.WriteHeader(200)
		_, _ = w.Write(out.Bytes())
	}
}

func (s *Server) store(index, id string, doc []byte) {
	s.docs[id] = doc
	s.creates[id]++
	s.indexes[index]++
}

func writeErr(w http.ResponseWriter, status int, typ, reason string) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": typ, "reason": reason}, "status": status})
	_, _ = w.Write(b)
}
