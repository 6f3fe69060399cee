package elasticsearch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink"
)

// bulkRecorder is an in-process _bulk endpoint (a RoundTripper: no
// network): it keeps each request body, uncompressed, and creates every
// item.
type bulkRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *bulkRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	defer req.Body.Close()
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, err
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, raw)
	r.mu.Unlock()
	items := bytes.Count(raw, []byte("\n")) / 2
	resp := `{"took":1,"errors":false,"items":[` + strings.TrimSuffix(strings.Repeat(`{"create":{"status":201}},`, items), ",") + `]}`
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"X-Elastic-Product": {"Elasticsearch"}, "Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(resp)),
		Request:    req,
	}, nil
}

func (r *bulkRecorder) body() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.bodies, nil)
}

// recordingSink returns a sink that sends to a bulkRecorder, one worker,
// so that requests arrive in the order of the batches.
func recordingSink(t *testing.T, compress bool) (*Sink, *bulkRecorder, *memSink) {
	rec, dl, el := &bulkRecorder{}, &memSink{}, &errLog{}
	cfg := fastConfig("http://es.invalid:9200", dl, el)
	cfg.Transport = rec
	cfg.Workers = 1
	cfg.FlushEvents = 1000 // batches of several compressor chunks
	cfg.DisableCompression = !compress
	s, err := New(cfg)
	require.NoError(t, err)
	return s, rec, dl
}

// TestWriteEntryBodyMatchesWrite writes the same lines through Write and
// through WriteEntry (with the event.id a Logger would hand over), with and
// without gzip, and compares the bulk request bodies (uncompressed) byte
// for byte. The batches are larger than a compressor chunk, and one line
// is larger than several.
func TestWriteEntryBodyMatchesWrite(t *testing.T) {
	lines := make([][]byte, 0, 2004)
	ids := make([]string, 0, 2004)
	for i := range 2000 {
		lines, ids = append(lines, testDoc("same", i)), append(ids, testID("same", i))
	}
	// IDs that need JSON escaping: Write copies them escaped from the
	// document, WriteEntry escapes the decoded value.
	lines = append(lines, []byte(`{"event":{"id":"quote\"and\\backslash"},"message":"m"}`+"\n"))
	ids = append(ids, `quote"and\backslash`)
	lines = append(lines, []byte(`{"event":{"id":"café-日本"},"message":"m"}`)) // no newline
	ids = append(ids, "café-日本")
	lines = append(lines, []byte("{\"event\":{\"id\":\"tab\\u0009x\"},\"message\":\"m\"}\r\n"))
	ids = append(ids, "tab\tx")
	lines = append(lines, []byte(`{"event":{"id":"big"},"message":"`+strings.Repeat("x", 3*chunkSize)+`"}`))
	ids = append(ids, "big")
	var first []byte
	for _, compress := range []bool{false, true} {
		for _, path := range writePaths {
			t.Run(fmt.Sprintf("gzip=%v/%s", compress, path.name), func(t *testing.T) {
				s, rec, dl := recordingSink(t, compress)
				for i, l := range lines {
					require.NoError(t, path.write(s, l, ids[i]))
				}
				require.NoError(t, s.Close(context.Background()))
				assert.Empty(t, dl.lines)
				body := rec.body()
				require.Equal(t, 2*len(lines), bytes.Count(body, []byte("\n")))
				assert.Contains(t, string(body), `"_id":"quote\"and\\backslash"}}`)
				if first == nil {
					first = body
					return
				}
				assert.True(t, bytes.Equal(first, body), "the body differs from gzip=false Write's")
			})
		}
	}
}

// TestWriteEntryIDAsIs checks that an ID that needs no escaping is copied
// verbatim, that the sink keeps no reference to the entry, and that
// WriteEntry does not allocate.
func TestWriteEntryIDAsIs(t *testing.T) {
	rec, dl, el := &bulkRecorder{}, &memSink{}, &errLog{}
	cfg := fastConfig("http://es.invalid:9200", dl, el)
	cfg.Transport, cfg.DisableCompression = rec, true
	// Nothing is sent before Close, so that no request allocates while
	// the allocations of WriteEntry are counted.
	cfg.FlushInterval, cfg.FlushEvents = time.Hour, 1_000_000
	s, err := New(cfg)
	require.NoError(t, err)
	line := []byte(`{"message":"hello","event":{"id":"not-this-one"}}` + "\n")
	id := []byte("0123456789abcdef0123456789abcdef")
	e := &sink.Entry{Line: line, ID: id}
	require.NoError(t, s.WriteEntry(e))
	copy(id, "ffffffffffffffffffffffffffffffff") // the caller reuses its buffers
	copy(line, `{"MESSAGE"`)
	if !raceEnabled { // the race detector allocates
		allocs := testing.AllocsPerRun(100, func() {
			if err := s.WriteEntry(&sink.Entry{Line: []byte(`{"a":1}`), ID: []byte("0123456789abcdef0123456789abcdef")}); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "allocations per WriteEntry")
	}
	require.NoError(t, s.Close(context.Background()))
	body := string(rec.body())
	want := `{"create":{"_index":"logs-test.app-ci","_id":"0123456789abcdef0123456789abcdef"}}` + "\n" + `{"message":"hello","event":{"id":"not-this-one"}}` + "\n"
	assert.True(t, strings.HasPrefix(body, want), "the entry's ID is the _id, not the line's event.id:\n%s", body[:min(len(body), 200)])
}

func TestWriteEntryRejectsWhatWouldBreakTheBody(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	for _, bad := range []string{"", "\n", "{", `"s"`, `[1]`, `{"a":1}` + "\n" + `{"b":2}`, `{"a":1}` + "\n\n", ` {"a":1}`} {
		err := s.WriteEntry(&sink.Entry{Line: []byte(bad), ID: []byte("id-" + bad)})
		assert.ErrorIs(t, err, ErrInvalidLine, "%q", bad)
	}
	require.NoError(t, s.WriteEntry(&sink.Entry{Line: []byte(`{"message":"no id"}` + "\n")}))
	require.NoError(t, s.WriteEntry(&sink.Entry{Line: []byte(`{"message":"odd id"}`), ID: []byte("a\"b\\c\x01é\xff")}))
	require.NoError(t, s.Close(context.Background()))
	st := s.Stats()
	assert.EqualValues(t, 8, st.Rejected)
	assert.EqualValues(t, 8, st.DeadLettered)
	assert.EqualValues(t, 2, st.Indexed)
	assert.Zero(t, fake.Stats().Malformed+fake.Stats().BadAction)
	ids := fake.IDs()
	assert.True(t, ids["a\"b\\c\x01é\uFFFD"], "escaped ID stored as its value: %v", ids)
	dl.mu.Lock()
	assert.Len(t, dl.lines, 8)
	dl.mu.Unlock()
}

// BenchmarkWriteLine is the cost of one line into the sink, Write (which
// validates it and finds its event.id) against WriteEntry (handed the ID),
// sending to an in-process endpoint. cpu-ns/op is the whole process's CPU
// time (getrusage), workers and endpoint included.
//
//	go test -run '^$' -bench 'WriteLine' -benchmem ./sink/elasticsearch
func BenchmarkWriteLine(b *testing.B) {
	line := testDoc("bench", 42)
	id := []byte(testID("bench", 42))
	for _, compress := range []bool{false, true} {
		for _, entry := range []bool{false, true} {
			name := map[bool]string{false: "plain", true: "gzip"}[compress] + "/" + map[bool]string{false: "Write", true: "WriteEntry"}[entry]
			b.Run(name, func(b *testing.B) {
				rec, dl, el := &esfake.Counter{}, &memSink{}, &errLog{}
				cfg := fastConfig("http://es.invalid:9200", dl, el)
				cfg.Transport, cfg.DisableCompression = rec, !compress
				cfg.FlushEvents, cfg.FlushInterval, cfg.Workers = 0, 0, 0 // the defaults
				s, err := New(cfg)
				require.NoError(b, err)
				e := &sink.Entry{Line: line, ID: id}
				b.ReportAllocs()
				b.SetBytes(int64(len(line)))
				c0 := cpuTime()
				b.ResetTimer()
				for range b.N {
					if entry {
						err = s.WriteEntry(e)
					} else {
						err = s.Write(line)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				require.NoError(b, s.Close(context.Background()))
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
				if got := rec.Items(); got != int64(b.N) {
					b.Fatalf("endpoint got %d items, want %d", got, b.N)
				}
			})
		}
	}
}
