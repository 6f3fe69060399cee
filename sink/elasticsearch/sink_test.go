package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink"
)

// memSink is an in-memory dead letter.
type memSink struct {
	mu    sync.Mutex
	lines [][]byte
}

func (m *memSink) Write(p []byte) error {
	m.mu.Lock()
	m.lines = append(m.lines, append([]byte(nil), p...))
	m.mu.Unlock()
	return nil
}
func (m *memSink) Flush(context.Context) error { return nil }
func (m *memSink) Close(context.Context) error { return nil }

type dlEntry struct {
	Status int `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Attempts    int             `json:"attempts"`
	Document    json.RawMessage `json:"document"`
	DocumentRaw string          `json:"document_raw"`
}

// entries parses the dead letter, keyed by the document's event.id.
func (m *memSink) entries(t *testing.T) map[string]dlEntry {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]dlEntry{}
	for _, l := range m.lines {
		require.True(t, strings.HasSuffix(string(l), "\n"), "dead letter line must end with a newline")
		var e dlEntry
		require.NoError(t, json.Unmarshal(l, &e), "dead letter line is JSON: %s", l)
		key := e.ID
		if len(e.Document) > 0 {
			var d struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			}
			require.NoError(t, json.Unmarshal(e.Document, &d))
			if d.Event.ID != "" {
				key = d.Event.ID
			}
		}
		_, dup := out[key]
		require.False(t, dup, "event %s dead-lettered twice", key)
		out[key] = e
	}
	return out
}

type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errLog) joined() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

func testDoc(run string, i int) []byte {
	return fmt.Appendf(nil, `{"@timestamp":"2026-11-26T01:02:03.%06dZ","log.level":"info","message":"request %d served \"ok\"","ecs.version":"9.4.0","event":{"dataset":"x","id":"%s-%06d"},"labels":{"run":"%s"},"http":{"request":{"method":"GET"},"response":{"status_code":200}},"url":{"path":"/api/v1/items/%d"}}`+"\n", i%1000000, i, run, i, run, i)
}

func testID(run string, i int) string { return fmt.Sprintf("%s-%06d", run, i) }

// fastConfig is a config with short timings for tests.
func fastConfig(addr string, dl sink.Sink, el *errLog) Config {
	return Config{
		Addresses:       []string{addr},
		Dataset:         "Test.App",
		Namespace:       "ci",
		FlushEvents:     50,
		FlushInterval:   20 * time.Millisecond,
		Workers:         2,
		RetryBackoffMin: time.Millisecond,
		RetryBackoffMax: 20 * time.Millisecond,
		RequestTimeout:  5 * time.Second,
		DeadLetter:      dl,
		OnError:         el.add,
	}
}

// reconcile checks that every id is indexed exactly once in the fake or is
// in the dead letter with a reason, and that nothing malformed was sent.
func reconcile(t *testing.T, fake *esfake.Server, dl *memSink, ids []string) (indexed, dead int) {
	t.Helper()
	stored := fake.IDs()
	dls := dl.entries(t)
	missing := 0
	for _, id := range ids {
		_, inDL := dls[id]
		if stored[id] {
			indexed++
		}
		if inDL {
			dead++
			assert.NotEmpty(t, dls[id].Error.Reason, "dead letter for %s has a reason", id)
			assert.NotEmpty(t, dls[id].Error.Type, "dead letter for %s has a type", id)
		}
		if !stored[id] && !inDL {
			missing++
		}
	}
	fs := fake.Stats()
	assert.Zero(t, missing, "events neither indexed nor dead-lettered")
	assert.Zero(t, fs.DoubleCreates, "an _id was created twice")
	assert.Zero(t, fs.Malformed, "malformed document lines sent")
	assert.Zero(t, fs.BadAction, "bad action lines sent")
	assert.Zero(t, fs.BadContentType, "requests without Content-Type application/x-ndjson")
	return indexed, dead
}

func TestElasticsearchFaults(t *testing.T) {
	const n = 600
	everyTenth := func(mod int, status int) func(i int, id string) int {
		return func(i int, id string) int {
			if strings.HasSuffix(id, fmt.Sprint(mod)) {
				return status
			}
			return 0
		}
	}
	tests := []struct {
		name   string
		setup  func(f *esfake.Server, cfg *Config)
		wantDL func(i int) bool // which events must end in the dead letter
		dlType string           // their error.type (substring)
		check  func(t *testing.T, st Stats, dl map[string]dlEntry)
	}{
		{name: "clean"},
		{name: "whole 429 then ok", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Status: 429}, esfake.Fault{Status: 429}, esfake.Fault{Status: 429})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Retried)
			assert.GreaterOrEqual(t, st.RequestErrors, int64(3))
		}},
		{name: "whole 500 502 503 504", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Status: 500}, esfake.Fault{Status: 502}, esfake.Fault{Status: 503}, esfake.Fault{Status: 504}, esfake.Fault{Status: 503})
		}},
		{name: "per-item 429 400 409 503 mix", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{ItemStatus: func(i int, id string) int {
				switch id[len(id)-1] {
				case '1':
					return 429
				case '2':
					return 400
				case '3':
					return 409
				case '4':
					return 503
				}
				return 0
			}})
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{ItemStatus: everyTenth(2, 400)} })
		}, wantDL: func(i int) bool { return i%10 == 2 }, dlType: "document_parsing_exception",
			check: func(t *testing.T, st Stats, dl map[string]dlEntry) {
				assert.Positive(t, st.Duplicates)
				for _, e := range dl {
					assert.Equal(t, 400, e.Status)
					assert.Contains(t, e.Error.Reason, "failed to parse")
					assert.Equal(t, "logs-test.app-ci", e.Index)
				}
			}},
		{name: "per-item 429 forever exhausts retries", setup: func(f *esfake.Server, cfg *Config) {
			cfg.MaxRetries = 2
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{ItemStatus: everyTenth(7, 429)} })
		}, wantDL: func(i int) bool { return i%10 == 7 }, dlType: dlRetriesExhausted,
			check: func(t *testing.T, _ Stats, dl map[string]dlEntry) {
				for _, e := range dl {
					assert.Equal(t, 3, e.Attempts)
					assert.Contains(t, e.Error.Reason, "429")
				}
			}},
		{name: "413 splits the batch", setup: func(f *esfake.Server, _ *Config) { f.MaxItems(7) }},
		{name: "413 single event dead-lettered", setup: func(f *esfake.Server, _ *Config) {
			f.FaultFunc(func(int) esfake.Fault {
				return esfake.Fault{Hook: func(*http.Request) {}}
			})
			f.MaxItems(0)
			f.Script(esfake.Fault{Status: 413}) // a 413 for the very first request: split until single items
		}},
		{name: "connection reset mid-response", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Reset: true}, esfake.Fault{Reset: true}, esfake.Fault{Reset: true})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Duplicates, "the reset requests were stored; their retry must answer 409")
		}},
		{name: "truncated body", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Truncate: true}, esfake.Fault{Truncate: true})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Duplicates)
		}},
		{name: "items array shorter than the batch", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{ShortItems: 1}, esfake.Fault{ShortItems: 5})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Duplicates)
		}},
		{name: "unparseable 200 body", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Garbage: true})
		}},
		{name: "missing X-Elastic-Product at first", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{NoProduct: true}, esfake.Fault{NoProduct: true})
		}},
		{name: "missing X-Elastic-Product always", setup: func(f *esfake.Server, cfg *Config) {
			cfg.MaxRetries = 1
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{NoProduct: true} })
		}, wantDL: func(int) bool { return true }, dlType: dlRetriesExhausted,
			check: func(t *testing.T, _ Stats, dl map[string]dlEntry) {
				for _, e := range dl {
					assert.Contains(t, e.Error.Reason, "X-Elastic-Product")
				}
			}},
		{name: "slow response past request timeout", setup: func(f *esfake.Server, cfg *Config) {
			cfg.RequestTimeout = 150 * time.Millisecond
			f.Script(esfake.Fault{Delay: time.Second}, esfake.Fault{Delay: time.Second})
		}},
		{name: "whole 400 dead-letters the batch", setup: func(f *esfake.Server, _ *Config) {
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{Status: 400} })
		}, wantDL: func(int) bool { return true }, dlType: dlRequestRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := esfake.New()
			defer fake.Close()
			dl := &memSink{}
			el := &errLog{}
			cfg := fastConfig(fake.URL, dl, el)
			if tc.setup != nil {
				tc.setup(fake, &cfg)
			}
			s, err := New(cfg)
			require.NoError(t, err)
			run := strings.ReplaceAll(tc.name, " ", "_")
			ids := make([]string, n)
			var wg sync.WaitGroup
			for w := range 3 { // concurrent writers
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < n; i += 3 {
						ids[i] = testID(run, i)
						assert.NoError(t, s.Write(testDoc(run, i)))
					}
				}()
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			require.NoError(t, s.Flush(ctx))
			st := s.Stats()
			closeErr := s.Close(ctx)
			assert.NoError(t, closeErr)
			indexed, dead := reconcile(t, fake, dl, ids)
			wantDead := 0
			dls := dl.entries(t)
			for i, id := range ids {
				if tc.wantDL != nil && tc.wantDL(i) {
					wantDead++
					if assert.Contains(t, dls, id) && tc.dlType != "" {
						assert.Contains(t, dls[id].Error.Type, tc.dlType)
					}
				}
			}
			assert.Equal(t, wantDead, dead, "dead-lettered")
			if tc.wantDL == nil {
				assert.Equal(t, n, indexed)
			}
			assert.EqualValues(t, n, st.Accepted)
			assert.EqualValues(t, dead, st.DeadLettered)
			assert.EqualValues(t, 0, st.Queued)
			assert.EqualValues(t, 0, st.InFlight)
			assert.EqualValues(t, 0, st.QueuedBytes)
			// every event reached a final state exactly once
			assert.EqualValues(t, n, st.Indexed+st.Duplicates+st.DeadLettered, "indexed+duplicates+dead-lettered")
			if docs := len(fake.IDs()); docs > 0 {
				assert.Equal(t, map[string]int{"logs-test.app-ci": docs}, fake.Indexes())
			}
			if tc.check != nil {
				tc.check(t, st, dls)
			}
			t.Logf("stats: %s", st)
		})
	}
}

func TestElasticsearchRequestShape(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.BulkPath = "insert/elasticsearch/_bulk"
	cfg.BulkQuery = url.Values{"_time_field": {"@timestamp"}, "_msg_field": {"message"}}
	cfg.Header = http.Header{"VL-Stream-Fields": {"labels.run"}}
	cfg.Dataset, cfg.Namespace = "My App/Front-End", "Prod:EU"
	s, err := New(cfg)
	require.NoError(t, err)
	assert.Equal(t, "logs-my_app_front_end-prod_eu", s.Index())
	require.NoError(t, s.Write(testDoc("shape", 1)))
	require.NoError(t, s.Write([]byte(`{"message":"no id"}`))) // no newline, no event.id
	require.NoError(t, s.Write([]byte(`{"event.id":"dotted-1","message":"dotted"}`+"\n")))
	require.NoError(t, s.Close(context.Background()))

	path, h := fake.LastRequest()
	assert.Equal(t, "/insert/elasticsearch/_bulk?_msg_field=message&_time_field=%40timestamp", path)
	assert.Equal(t, "application/x-ndjson", h.Get("Content-Type"))
	assert.Equal(t, "gzip", h.Get("Content-Encoding"))
	assert.Equal(t, "labels.run", h.Get("VL-Stream-Fields"))
	ids := fake.IDs()
	assert.Len(t, ids, 3)
	assert.True(t, ids["shape-000001"])
	assert.True(t, ids["dotted-1"])
	assert.Equal(t, map[string]int{"logs-my_app_front_end-prod_eu": 3}, fake.Indexes())
	assert.Empty(t, dl.lines)
}

func TestElasticsearchNoCompression(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.DisableCompression = true
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Write(testDoc("plain", 1)))
	require.NoError(t, s.Close(context.Background()))
	_, h := fake.LastRequest()
	assert.Empty(t, h.Get("Content-Encoding"))
	st := s.Stats()
	assert.Equal(t, st.BytesRaw, st.BytesSent)
	assert.Len(t, fake.IDs(), 1)
}

func TestElasticsearchInvalidLines(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	bad := []string{
		`{"message":"truncated`,
		`["not","an","object"]`,
		"",
		"\n",
		`{"a":1}` + "\n" + `{"b":2}`,
		`{"a":1} trailing`,
		"{\"a\":\"\xff\xfe\"}", // json.Valid accepts invalid UTF-8? it must not crash either way
	}
	rejected := 0
	for _, b := range bad {
		err := s.Write([]byte(b))
		if err != nil {
			rejected++
			assert.ErrorIs(t, err, ErrInvalidLine, "%q", b)
		}
	}
	assert.GreaterOrEqual(t, rejected, 6)
	require.NoError(t, s.Write(testDoc("valid", 1)))
	require.NoError(t, s.Close(context.Background()))
	assert.Zero(t, fake.Stats().Malformed)
	st := s.Stats()
	assert.EqualValues(t, rejected, st.Rejected)
	assert.EqualValues(t, rejected, st.DeadLettered)
	dl.mu.Lock()
	defer dl.mu.Unlock()
	require.Len(t, dl.lines, rejected)
	var e dlEntry
	require.NoError(t, json.Unmarshal(dl.lines[0], &e))
	assert.Equal(t, dlInvalidLine, e.Error.Type)
	assert.Equal(t, `{"message":"truncated`, e.DocumentRaw)
	assert.Contains(t, el.joined(), "invalid line")
}

func TestElasticsearchMintedIDsAreStableAcrossRetries(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	fake.Script(esfake.Fault{Reset: true}, esfake.Fault{Truncate: true})
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, s.Write(fmt.Appendf(nil, `{"message":"m%d"}`+"\n", i)))
	}
	require.NoError(t, s.Close(context.Background()))
	assert.Equal(t, 200, fake.Stats().Docs, "each id-less event stored exactly once")
	assert.Zero(t, fake.Stats().DoubleCreates)
	st := s.Stats()
	assert.EqualValues(t, 200, st.Indexed+st.Duplicates)
	assert.Positive(t, st.Duplicates)
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestElasticsearchDownAtStartup(t *testing.T) {
	addr := freeAddr(t)
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("http://"+addr, dl, el)
	start := time.Now()
	s, err := New(cfg)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "New must not contact the server")
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = testID("down", i)
		require.NoError(t, s.Write(testDoc("down", i)))
	}
	time.Sleep(200 * time.Millisecond) // several failed attempts
	assert.Positive(t, s.Stats().RequestErrors)

	l, err := net.Listen("tcp", addr) // now bring "Elasticsearch" up on that address
	require.NoError(t, err)
	srv := esfake.NewOn(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.Flush(ctx))
	require.NoError(t, s.Close(ctx))
	indexed, dead := reconcile(t, srv, dl, ids)
	assert.Equal(t, 300, indexed)
	assert.Zero(t, dead)
	assert.Contains(t, el.joined(), "will retry")
}

func TestElasticsearchQueueFullDrops(t *testing.T) {
	addr := freeAddr(t) // unreachable
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("http://"+addr, dl, el)
	cfg.MaxQueueEvents = 100
	cfg.QueueFullTimeout = -1
	s, err := New(cfg)
	require.NoError(t, err)
	dropped := 0
	for i := range 1000 {
		if err := s.Write(testDoc("drop", i)); err != nil {
			require.ErrorIs(t, err, ErrQueueFull)
			dropped++
		}
	}
	assert.Equal(t, 900, dropped)
	st := s.Stats()
	assert.EqualValues(t, 900, st.Dropped)
	assert.EqualValues(t, 100, st.Accepted)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = s.Close(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "100 event(s) dead-lettered during close")
	assert.Contains(t, err.Error(), "900 event(s) dropped")
	assert.Contains(t, el.joined(), "event(s) dropped")
	dls := dl.entries(t)
	assert.Len(t, dls, 100)
	for _, e := range dls {
		assert.Equal(t, dlCloseDeadline, e.Error.Type)
		assert.Contains(t, e.Error.Reason, "connect")
	}
	st = s.Stats()
	assert.EqualValues(t, 0, st.Queued+st.InFlight+st.QueuedBytes)
	assert.ErrorIs(t, s.Write(testDoc("drop", 0)), sink.ErrClosed)
	assert.ErrorIs(t, s.Flush(context.Background()), sink.ErrClosed)
	assert.NoError(t, s.Close(context.Background()))
}

func TestElasticsearchQueueFullWaitsThenDrops(t *testing.T) {
	addr := freeAddr(t)
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("http://"+addr, dl, el)
	cfg.MaxQueueBytes = 2000 // a few events
	cfg.QueueFullTimeout = 50 * time.Millisecond
	s, err := New(cfg)
	require.NoError(t, err)
	var err2 error
	for i := 0; err2 == nil && i < 100; i++ {
		err2 = s.Write(testDoc("wait", i))
	}
	start := time.Now()
	require.ErrorIs(t, s.Write(testDoc("wait", 1000)), ErrQueueFull)
	assert.GreaterOrEqual(t, time.Since(start), 45*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
}

func TestElasticsearchBlockWhenFull(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	release := make(chan struct{})
	fake.FaultFunc(func(n int) esfake.Fault {
		return esfake.Fault{Hook: func(*http.Request) { <-release }}
	})
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.MaxQueueEvents = 20
	cfg.FlushEvents = 5
	cfg.BlockWhenFull = true
	s, err := New(cfg)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			assert.NoError(t, s.Write(testDoc("block", i)))
		}
	}()
	select {
	case <-done:
		t.Fatal("writer did not block on a full queue")
	case <-time.After(300 * time.Millisecond):
	}
	assert.LessOrEqual(t, s.Stats().Accepted, int64(20))
	close(release)
	<-done
	require.NoError(t, s.Close(context.Background()))
	assert.Equal(t, 100, fake.Stats().Docs)
	assert.Zero(t, s.Stats().Dropped)
}

func TestElasticsearchCloseDeadlineDeadLettersInFlight(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	fake.FaultFunc(func(int) esfake.Fault { return esfake.Fault{Delay: 10 * time.Second} })
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	ids := make([]string, 120)
	for i := range ids {
		ids[i] = testID("slowclose", i)
		require.NoError(t, s.Write(testDoc("slowclose", i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Close(ctx)
	assert.Less(t, time.Since(start), 2*time.Second)
	require.Error(t, err)
	_, dead := reconcile(t, fake, dl, ids)
	assert.Equal(t, 120, dead, "everything undelivered at the deadline is dead-lettered")
	for _, e := range dl.entries(t) {
		assert.Equal(t, dlCloseDeadline, e.Error.Type)
	}
}

func TestElasticsearchFlushTimeoutKeepsEvents(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	fake.Script(esfake.Fault{Delay: 400 * time.Millisecond})
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	require.NoError(t, s.Write(testDoc("flush", 1)))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Flush(ctx), context.DeadlineExceeded)
	require.NoError(t, s.Flush(context.Background()))
	require.NoError(t, s.Close(context.Background()))
	assert.Len(t, fake.IDs(), 1)
	assert.Empty(t, dl.lines)
}

func TestElasticsearchCredentialsNeverPrinted(t *testing.T) {
	const user, pass, apiKey = "elastic", "Sup3r-S3cret-Pa55", "QVBJLUtFWS1TRUNSRVQtVkFMVUU="
	// A server that echoes the Authorization header back in its error body.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"bad credentials %s (url %s)"},"status":401}`, r.Header.Get("Authorization"), r.URL.String())
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	cases := map[string]Config{
		"basic auth":   {Addresses: []string{srv.URL}, Username: user, Password: pass},
		"api key":      {Addresses: []string{srv.URL}, APIKey: apiKey},
		"url userinfo": {Addresses: []string{"http://" + user + ":" + pass + "@" + u.Host}},
		"unreachable":  {Addresses: []string{"http://" + user + ":" + pass + "@" + freeAddr(t)}, APIKey: apiKey},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			dl, el := &memSink{}, &errLog{}
			base := fastConfig("", dl, el)
			base.Addresses, base.Username, base.Password, base.APIKey = cfg.Addresses, cfg.Username, cfg.Password, cfg.APIKey
			s, err := New(base)
			require.NoError(t, err)
			for i := range 20 {
				require.NoError(t, s.Write(testDoc("cred", i)))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			closeErr := s.Close(ctx)
			var all strings.Builder
			all.WriteString(el.joined())
			if closeErr != nil {
				all.WriteString(closeErr.Error())
			}
			all.WriteString(s.Stats().String())
			all.WriteString(fmt.Sprintf("%+v", s.Stats()))
			dl.mu.Lock()
			for _, l := range dl.lines {
				all.Write(l)
			}
			nDL := len(dl.lines)
			dl.mu.Unlock()
			out := all.String()
			require.NotEmpty(t, el.joined(), "errors were reported")
			assert.Equal(t, 20, nDL)
			for _, secret := range []string{pass, apiKey, "ZWxhc3RpYzpTdXAzci1TM2NyZXQtUGE1NQ=="} {
				assert.NotContains(t, out, secret)
			}
			t.Log(strings.SplitN(el.joined(), "\n", 2)[0])
		})
	}
	// invalid config errors do not leak either
	_, err := New(Config{Addresses: []string{"http://u:" + pass + "@[::1"}, Password: pass})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), pass)
}

func TestElasticsearchDefaultDeadLetterFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.ndjson")
	fake := esfake.New()
	defer fake.Close()
	fake.FaultFunc(func(int) esfake.Fault { return esfake.Fault{ItemStatus: func(int, string) int { return 400 }} })
	el := &errLog{}
	cfg := fastConfig(fake.URL, nil, el)
	cfg.DeadLetterPath = path
	s, err := New(cfg)
	require.NoError(t, err)
	_, statErr := os.Stat(path)
	assert.True(t, os.IsNotExist(statErr), "file created lazily")
	for i := range 10 {
		require.NoError(t, s.Write(testDoc("dlfile", i)))
	}
	require.NoError(t, s.Close(context.Background()))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, fi.Mode().Perm()&^0o640, "created 0640 (minus umask)")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm()&0o600)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var e dlEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		assert.Equal(t, 400, e.Status)
		assert.Equal(t, "document_parsing_exception", e.Error.Type)
		assert.True(t, json.Valid(e.Document))
		n++
	}
	assert.Equal(t, 10, n)
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Addresses: []string{"http://127.0.0.1:1"}, CloudID: "x:eA=="})
	assert.Error(t, err)
	_, err = New(Config{Addresses: []string{"http://127.0.0.1:1"}, CompressionLevel: 42})
	assert.Error(t, err)
	_, err = New(Config{Addresses: []string{"http://127.0.0.1:1"}, Index: `bad"index`})
	assert.Error(t, err)
}

func TestExtractEventID(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"event":{"id":"abc"}}`, "abc"},
		{`{"@timestamp":"x","event":{"dataset":"d","id":"a\"b"},"message":"m"}`, `a\"b`},
		{`{"message":"{\"event\":{\"id\":\"fake\"}}","event":{"id":"real"}}`, "real"},
		{`{"event.id":"dotted"}`, "dotted"},
		{`{"labels":{"event":{"id":"nested"}}}`, ""},
		{`{"event":{"kind":"x"}}`, ""},
		{`{"event":{"id":42}}`, ""},
		{`{"event":{"id":""}}`, ""},
		{`{"event":"str","x":1}`, ""},
		{`{"a":[1,{"b":"}"}],"event":{"x":[{"id":"no"}],"id":"yes"}}`, "yes"},
		{` { "event" : { "id" : "spaced" } } `, "spaced"},
	}
	for _, tc := range tests {
		id, reason := scanLine([]byte(tc.doc))
		assert.Empty(t, reason, tc.doc)
		assert.Equal(t, tc.want, string(id), tc.doc)
	}
}

func TestScanBulkResponse(t *testing.T) {
	ok := `{"took":3,"errors":false,"items":[{"create":{"_id":"a","status":201}},{"create":{"_id":"b]","status":201}}]}`
	s, err := scanBulkResponse([]byte(ok))
	require.NoError(t, err)
	assert.Equal(t, bulkSummary{errors: false, items: 2}, s)
	s, err = scanBulkResponse([]byte(`{"errors":true,"items":[]}`))
	require.NoError(t, err)
	assert.Equal(t, bulkSummary{errors: true}, s)
	for _, bad := range []string{``, `<html>`, `{"errors":false,"items":[{"create":{}}`, `{"errors":false}`, ok[:len(ok)/2], `{"errors":false,"items":[]} x`} {
		_, err := scanBulkResponse([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestDataStreamName(t *testing.T) {
	assert.Equal(t, "logs-generic-default", DataStreamName("", "", ""))
	assert.Equal(t, "logs-my_service-prod", DataStreamName("logs", "My-Service", "PROD"))
	assert.Equal(t, "logs-a_b_c_d_e_f_g_h_i_j_k_l-x", DataStreamName("", `a\b/c*d?e"f<g>h|i,j#k:l`, "x"))
	assert.Equal(t, "logs-svc-default", DataStreamName("", "__svc", ""))
	long := DataStreamName("", strings.Repeat("é", 80), "")
	assert.LessOrEqual(t, len(strings.Split(long, "-")[1]), 100)
	assert.True(t, strings.HasPrefix(long, "logs-éé"))
}

func TestElasticsearchConcurrentFlushAndClose(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				err := s.Write(testDoc(fmt.Sprintf("cc%d", w), i))
				if errors.Is(err, sink.ErrClosed) {
					return
				}
				assert.NoError(t, err)
				if i%50 == 0 {
					if err := s.Flush(context.Background()); err != nil {
						assert.ErrorIs(t, err, sink.ErrClosed)
					}
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, s.Close(context.Background()))
	wg.Wait()
	st := s.Stats()
	assert.EqualValues(t, st.Accepted, st.Indexed+st.Duplicates+st.DeadLettered)
	assert.EqualValues(t, st.Accepted, fake.Stats().Docs)
}

var scanLineCorpus = []string{
	`{}`, ` {} `, `{"a":1}`, `{"a":-0.5e+10,"b":[1,2,{"c":null}],"d":true,"e":false}`,
	`{"a":"\u00e9\n\t\"\\\/"}`, `{"a":"é日本"}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`,
	`{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}",
	`{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{}}}`, `{"a":1}{}`, `{"a":1`, `{"a`,
	`[]`, `"s"`, `1`, ``, ` `, `{"a":"b"} x`, "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\xa9\"}",
	"{\"a\":\n1}", "{\"a\":1}\n", `{"a":[[[[[[]]]]]]}`, `{"a":[{"b":[{"c":"]}"}]}]}`, `{"a":1E-2}`, `{"a":-0}`, `{"a":- 1}`,
	`{"a":"\uD834\uDD1E"}`, `{"":""}`, "{\"a\":\"b\"}\r", `{"event":{"id":"x"},"event.id":"y"}`,
}

func TestScanLineMatchesJSONValid(t *testing.T) {
	for _, c := range scanLineCorpus {
		_, reason := scanLine([]byte(c))
		trimmed := strings.TrimSpace(c)
		want := json.Valid([]byte(c)) && utf8.ValidString(c) && strings.HasPrefix(trimmed, "{") && !strings.Contains(c, "\n")
		assert.Equal(t, want, reason == "", "%q: %s", c, reason)
	}
}

func FuzzScanLine(f *testing.F) {
	for _, c := range scanLineCorpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, reason := scanLine(b)
		trimmed := bytes.TrimSpace(b)
		// scanLine is json.Valid plus: an object, one line, valid UTF-8
		want := json.Valid(b) && utf8.Valid(b) && bytes.HasPrefix(trimmed, []byte("{")) && bytes.IndexByte(b, '\n') < 0
		if want != (reason == "") {
			t.Fatalf("%q: scanLine=%q json.Valid-based=%v", b, reason, want)
		}
		// The previous recursive scanner agrees on event.id wherever it
		// accepts the line (it refused deep nesting json.Valid allows).
		if refID, refReason := refScanLine(b); refReason == "" {
			if id, _ := scanLine(b); reason != "" || !bytes.Equal(id, refID) {
				t.Fatalf("%q: scanLine id=%q reason=%q, previous scanner id=%q", b, id, reason, refID)
			}
		}
	})
}

func TestScanLineDepthMatchesJSONValid(t *testing.T) {
	for _, depth := range []int{63, 64, 65, 127, 128, 129, 500, 9999, 10000, 10001, 20000} {
		for _, open := range []string{"[", `{"a":`} {
			var b strings.Builder
			b.WriteString(`{"x":`)
			for range depth - 1 {
				b.WriteString(open)
			}
			b.WriteString("1")
			for range depth - 1 {
				if open == "[" {
					b.WriteString("]")
				} else {
					b.WriteString("}")
				}
			}
			b.WriteString("}")
			doc := []byte(b.String())
			_, reason := scanLine(doc)
			assert.Equal(t, json.Valid(doc), reason == "", "depth %d %s: %s", depth, open, reason)
		}
	}
	// mixed arrays and objects across a 64-level word boundary
	doc := []byte(`{"a":` + strings.Repeat(`[{"b":`, 70) + `[1,{"c":[]}]` + strings.Repeat(`}]`, 70) + `,"event":{"id":"deep-ok"}}`)
	id, reason := scanLine(doc)
	assert.Empty(t, reason)
	assert.Equal(t, "deep-ok", string(id))
}

// BenchmarkScanLine reports cpu-ns/op (getrusage: user + system time of the
// process) besides the wall-clock ns/op, which a loaded machine inflates.
func BenchmarkScanLine(b *testing.B) {
	doc := testDoc("bench", 42)
	doc = doc[:len(doc)-1]
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.Run("scanLine", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		c0 := cpu()
		defer func() { b.ReportMetric(float64(cpu()-c0)/float64(b.N), "cpu-ns/op") }()
		for range b.N {
			if _, r := scanLine(doc); r != "" {
				b.Fatal(r)
			}
		}
	})
	b.Run("previous", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		c0 := cpu()
		defer func() { b.ReportMetric(float64(cpu()-c0)/float64(b.N), "cpu-ns/op") }()
		for range b.N {
			if _, r := refScanLine(doc); r != "" {
				b.Fatal(r)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		c0 := cpu()
		defer func() { b.ReportMetric(float64(cpu()-c0)/float64(b.N), "cpu-ns/op") }()
		for range b.N {
			if !json.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
}

// TestElasticsearchMemoryBoundWhenUnreachable emits 1M events at an
// unreachable cluster under the drop policy: the heap must stay within the
// queue bound plus 20 MB.
func TestElasticsearchMemoryBoundWhenUnreachable(t *testing.T) {
	const bound = 16 << 20
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000 // the race detector makes 1M writes take a minute
	}
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("http://"+freeAddr(t), dl, el)
	cfg.FlushEvents = 0
	cfg.MaxQueueBytes = bound
	cfg.QueueFullTimeout = -1
	doc := testDoc("mem", 1)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	s, err := New(cfg)
	require.NoError(t, err)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	dropped := 0
	for range n {
		if err := s.Write(doc); err != nil {
			require.ErrorIs(t, err, ErrQueueFull)
			dropped++
		}
	}
	close(stop)
	<-sampled
	st := s.Stats()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
	grown := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("%d events, %d dropped, queued bytes %d, peak heap growth %.1f MB (bound %d MB + 20 MB)", n, dropped, st.QueuedBytes, float64(grown)/(1<<20), bound>>20)
	assert.LessOrEqual(t, st.QueuedBytes, int64(bound))
	assert.Positive(t, dropped)
	assert.EqualValues(t, dropped, st.Dropped)
	assert.LessOrEqual(t, grown, int64(bound+20<<20))
}

func TestElasticsearchTLSVerifiedByDefault(t *testing.T) {
	fake := esfake.NewTLS()
	defer fake.Close()
	cert := fake.Certificate()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	sum := sha256.Sum256(cert.Raw)
	fingerprint := hex.EncodeToString(sum[:])

	send := func(t *testing.T, mod func(*Config), run string) (*errLog, int) {
		dl, el := &memSink{}, &errLog{}
		cfg := fastConfig(fake.URL, dl, el)
		mod(&cfg)
		s, err := New(cfg)
		require.NoError(t, err)
		for i := range 10 {
			require.NoError(t, s.Write(testDoc(run, i)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Flush(ctx)
		_ = s.Close(ctx)
		n := 0
		for id := range fake.IDs() {
			if strings.HasPrefix(id, run+"-") {
				n++
			}
		}
		return el, n
	}
	t.Run("untrusted certificate is refused", func(t *testing.T) {
		el, n := send(t, func(*Config) {}, "untrusted")
		assert.Zero(t, n)
		assert.Contains(t, el.joined(), "certificate")
	})
	t.Run("CACert", func(t *testing.T) {
		_, n := send(t, func(c *Config) { c.CACert = caPEM }, "ca")
		assert.Equal(t, 10, n)
	})
	t.Run("CertificateFingerprint", func(t *testing.T) {
		_, n := send(t, func(c *Config) { c.CertificateFingerprint = fingerprint }, "fp")
		assert.Equal(t, 10, n)
	})
	t.Run("wrong fingerprint is refused", func(t *testing.T) {
		el, n := send(t, func(c *Config) { c.CertificateFingerprint = strings.Repeat("ab", 32) }, "badfp")
		assert.Zero(t, n)
		assert.NotEmpty(t, el.joined())
	})
}

func TestElasticsearchCloudID(t *testing.T) {
	// Cloud ID "name:base64(host$es-uuid$kibana-uuid)" resolves to https://es-uuid.host.
	cloudID := "deploy:" + base64.StdEncoding.EncodeToString([]byte("127.0.0.1:1$esuuid$kbuuid"))
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("", dl, el)
	cfg.Addresses = nil
	cfg.CloudID = cloudID
	cfg.APIKey = "c2VjcmV0LWFwaS1rZXk="
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Write(testDoc("cloud", 1)))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
	assert.Contains(t, el.joined(), "esuuid.127.0.0.1", "Cloud ID decoded into the node address")
	assert.NotContains(t, el.joined(), cfg.APIKey)
}

// bulkResponseFor builds an Elasticsearch-shaped bulk response of n created
// items (the item shape of Elasticsearch 8).
func bulkResponseFor(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"took":12,"errors":false,"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"create":{"_index":".ds-logs-bench-default-2026.11.26-000001","_id":"01JDQX8Z3K9M2N4P6R8T%06d","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkScanBulkResponse(b *testing.B) {
	body := bulkResponseFor(2000)
	b.Run("current", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			s, err := scanBulkResponse(body)
			if err != nil || s.items != 2000 || s.errors {
				b.Fatal(s, err)
			}
		}
	})
}

func TestScanBulkResponseLarge(t *testing.T) {
	body := bulkResponseFor(3000)
	s, err := scanBulkResponse(body)
	require.NoError(t, err)
	assert.Equal(t, bulkSummary{items: 3000}, s)
	// every truncation is refused, never miscounted
	for cut := len(body) - 1; cut > 0; cut -= 1009 {
		_, err := scanBulkResponse(body[:cut])
		require.Error(t, err, "cut at %d", cut)
	}
	var full struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &full))
	assert.Len(t, full.Items, 3000)
}

// TestShortStringAgrees checks the inlined fast path against scanJSONString
// for every byte value at every position of short strings: it must either
// decline (-1) or return exactly what the full scanner returns.
func TestShortStringAgrees(t *testing.T) {
	for n := 0; n <= 10; n++ {
		for p := 0; p < max(n, 1); p++ {
			for c := range 256 {
				s := []byte(`"` + strings.Repeat("a", n) + `","b":1}     `)
				if n > 0 {
					s[1+p] = byte(c)
				}
				fast := shortString(s, 0)
				if fast < 0 {
					continue
				}
				end, msg := scanJSONString(s, 0)
				if msg != "" || end != fast {
					t.Fatalf("%q: shortString=%d, scanJSONString=%d %q", s, fast, end, msg)
				}
			}
		}
	}
	// too close to the end: declines
	assert.Equal(t, -1, shortString([]byte(`"abc"`), 0))
}

// TestScanJSONStringBytePairs puts every pair of byte values at every
// position of the first 8-byte word (and across into the next) of a string
// and compares scanLine with json.Valid + utf8.Valid: a wrong SWAR mark (a
// borrow from 0x80..0x9f, say) would refuse valid text or accept a control
// byte.
func TestScanJSONStringBytePairs(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	const s0 = 6 // first byte of the string's contents
	for _, doc := range [][]byte{[]byte(`{"a":"abcdefghijklmnop","b":1}`), []byte(`{"a":"                ","b":1}`)} {
		for p := s0; p < s0+9; p++ {
			for c1 := range 256 {
				for c2 := range 256 {
					d := bytes.Clone(doc)
					d[p], d[p+1] = byte(c1), byte(c2)
					_, reason := scanLine(d)
					want := json.Valid(d) && utf8.Valid(d) && bytes.IndexByte(d, '\n') < 0
					if want != (reason == "") {
						t.Fatalf("%q: scanLine=%q json.Valid-based=%v", d, reason, want)
					}
				}
			}
		}
	}
}
