package esfake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
)

// Counter is a minimal _bulk endpoint for benchmarks: it decompresses the
// body, counts the action lines and creates every item. Unlike Server it
// keeps and checks nothing, so that it does the same small work for every
// client measured.
type Counter struct {
	items atomic.Int64
	zr    sync.Pool
}

// Items is the number of bulk items received.
func (c *Counter) Items() int64 { return c.items.Load() }

// ServeHTTP answers a bulk request (and, for any GET, the root endpoint).
func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"version":{"number":"8.19.7"}}`)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, _ := c.zr.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r.Body)
		} else {
			err = zr.Reset(r.Body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer c.zr.Put(zr)
		body = zr
	}
	br := bufio.NewReaderSize(body, 64<<10)
	lines := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			lines++
		}
		for err == bufio.ErrBufferFull { // a line longer than the buffer
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			break
		}
	}
	items := lines / 2
	c.items.Add(int64(items))
	out := make([]byte, 0, 40+26*items)
	out = append(out, `{"took":1,"errors":false,"items":[`...)
	for i := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"create":{"status":201}}`...)
	}
	out = append(out, "]}"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

// RoundTrip serves req in process, without a connection: c as a client's
// http.RoundTripper.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	defer req.Body.Close()
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	return rec.Result(), nil
}
