package elasticsearch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
)

// statusServer answers every request with status (and the product header
// unless noProduct), counting bulk requests.
func statusServer(status int, noProduct bool, bulks *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "_bulk") {
			bulks.Add(1)
		}
		if !noProduct {
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == 200 {
			_, _ = io.WriteString(w, `{"errors":false,"items":[]}`)
			return
		}
		_, _ = io.WriteString(w, `{"error":{"type":"security_exception","reason":"nope"},"status":`+http.StatusText(status)+`}`)
	}))
}

// TestElasticsearchPermanentFailures: 401, 403, 404 on the bulk path, a
// server that is not Elasticsearch and an untrusted certificate are
// reported once with what to fix, not retried, and the events are
// dead-lettered at once; Flush, Close and Check return ErrPermanent.
func TestElasticsearchPermanentFailures(t *testing.T) {
	tlsFake := esfake.NewTLS()
	defer tlsFake.Close()
	for _, tc := range []struct {
		name   string
		status int
		noProd bool
		tls    bool
		fix    string
	}{
		{name: "401", status: 401, fix: "APIKey"},
		{name: "403", status: 403, fix: "create_doc"},
		{name: "404 on the bulk path", status: 404, fix: "BulkPath"},
		{name: "not Elasticsearch", status: 200, noProd: true, fix: "Addresses"},
		{name: "untrusted certificate", tls: true, fix: "CACert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bulks atomic.Int64
			url := tlsFake.URL
			if !tc.tls {
				srv := statusServer(tc.status, tc.noProd, &bulks)
				defer srv.Close()
				url = srv.URL
			}
			dl, el := &memSink{}, &errLog{}
			cfg := fastConfig(url, dl, el)
			cfg.FlushEvents = 10
			cfg.RetryBackoffMax = 200 * time.Millisecond
			s, err := New(cfg)
			require.NoError(t, err)
			checkErr := s.Check(context.Background())
			assert.ErrorIs(t, checkErr, ErrPermanent, "Check")
			if checkErr != nil {
				assert.Contains(t, checkErr.Error(), tc.fix)
			}
			start := time.Now()
			for i := range 30 {
				require.NoError(t, s.Write(testDoc("perm", i)))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.ErrorIs(t, s.Flush(ctx), ErrPermanent)
			assert.Less(t, time.Since(start), 3*time.Second, "no retry until a deadline")
			assert.ErrorIs(t, s.Close(ctx), ErrPermanent)
			entries := dl.entries(t)
			assert.Len(t, entries, 30, "every event dead-lettered")
			for _, e := range entries {
				assert.Equal(t, dlPermanent, e.Error.Type)
				assert.Contains(t, e.Error.Reason, tc.fix)
				break
			}
			if !tc.tls {
				assert.LessOrEqual(t, bulks.Load(), int64(3), "each batch tried once, not retried")
			}
			assert.Equal(t, 1, strings.Count(el.joined(), "permanent failure"), "reported once: %s", el.joined())
		})
	}
	t.Run("Check passes on Elasticsearch", func(t *testing.T) {
		fake := esfake.New()
		defer fake.Close()
		s, err := New(fastConfig(fake.URL, &memSink{}, &errLog{}))
		require.NoError(t, err)
		assert.NoError(t, s.Check(context.Background()))
		require.NoError(t, s.Close(context.Background()))
	})
}

// TestElasticsearchPermanentFailureKeepsDiskQueue: with a disk queue, a 401
// leaves the events on disk (none dead-lettered, Write never waits); a sink
// started on the directory with the right server delivers them.
func TestElasticsearchPermanentFailureKeepsDiskQueue(t *testing.T) {
	var bulks atomic.Int64
	srv := statusServer(401, false, &bulks)
	defer srv.Close()
	dir := t.TempDir()
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(srv.URL, dl, el)
	cfg.QueueDir = dir
	cfg.RetryBackoffMax = time.Second
	s, err := New(cfg)
	require.NoError(t, err)
	for i := range 200 {
		start := time.Now()
		require.NoError(t, s.Write(testDoc("permdisk", i)))
		require.Less(t, time.Since(start), time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Flush(ctx), ErrPermanent)
	err = s.Close(ctx)
	assert.ErrorIs(t, err, ErrPermanent)
	assert.Empty(t, dl.entries(t), "nothing dead-lettered: the events wait on disk")
	assert.Equal(t, 1, strings.Count(el.joined(), "permanent failure"))

	fake := esfake.New()
	defer fake.Close()
	dl2 := &memSink{}
	cfg2 := fastConfig(fake.URL, dl2, &errLog{})
	cfg2.QueueDir = dir
	s2, err := New(cfg2)
	require.NoError(t, err)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	require.NoError(t, s2.Flush(ctx2))
	require.NoError(t, s2.Close(ctx2))
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = testID("permdisk", i)
	}
	indexed, dead := reconcile(t, fake, dl2, ids)
	assert.Equal(t, 200, indexed)
	assert.Zero(t, dead)
}

// TestElasticsearchOutageDoesNotStallCallers: with the cluster down and the
// in-memory queue full, the default policy drops at once (counted,
// reported) instead of making every Write wait; with a disk queue Write
// does not wait either, and nothing is dropped.
func TestElasticsearchOutageDoesNotStallCallers(t *testing.T) {
	for _, mode := range []string{"memory", "disk-interval", "disk-batch"} {
		t.Run(mode, func(t *testing.T) {
			disk := mode != "memory"
			// A cluster that accepts connections and never answers.
			hang, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer hang.Close()
			dl, el := &memSink{}, &errLog{}
			cfg := fastConfig("http://"+hang.Addr().String(), dl, el)
			cfg.MaxQueueEvents = 100
			cfg.RequestTimeout = 30 * time.Second
			if disk {
				cfg.QueueDir = t.TempDir()
			}
			if mode == "disk-interval" {
				cfg.DiskSync = DiskSyncInterval
			}
			s, err := New(cfg)
			require.NoError(t, err)
			defer s.Close(context.Background())
			var worst time.Duration
			dropped := 0
			for i := range 2000 {
				start := time.Now()
				err := s.Write(testDoc("outage", i))
				worst = max(worst, time.Since(start))
				if errors.Is(err, ErrQueueFull) {
					dropped++
				} else {
					require.NoError(t, err)
				}
			}
			t.Logf("2000 Writes during an outage: slowest %s, %d dropped", worst, dropped)
			// The server never answers: a Write that waited for the
			// network would take the 30s request timeout. Under
			// DiskSyncBatch a Write waits for its (group-committed)
			// fsync, which a loaded shared disk can stretch past a
			// second; the bound stays far below the network's.
			bound := time.Second
			if mode == "disk-batch" {
				bound = 10 * time.Second
			}
			assert.Less(t, worst, bound, "a Write waited on the network")
			if disk {
				assert.Zero(t, dropped)
			} else {
				assert.Equal(t, 1900, dropped)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_ = s.Close(ctx)
		})
	}
}

// TestElasticsearchLosses: what a 401 dead-letters is reported as the
// sink's Losses, with the dead letter's path, for RunJob to see.
func TestElasticsearchLosses(t *testing.T) {
	var bulks atomic.Int64
	srv := statusServer(401, false, &bulks)
	defer srv.Close()
	el := &errLog{}
	cfg := fastConfig(srv.URL, nil, el)
	cfg.DeadLetter = nil
	cfg.DeadLetterPath = t.TempDir() + "/dl.ndjson"
	s, err := New(cfg)
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, s.Write(testDoc("losses", i)))
	}
	require.Error(t, s.Write([]byte("not json")))
	_ = s.Close(context.Background())
	l := s.Losses()
	assert.EqualValues(t, 20, l.DeadLettered, "the invalid line was refused by Write: the caller counts it")
	assert.Zero(t, l.Undelivered)
	assert.Equal(t, cfg.DeadLetterPath, l.DeadLetter)
}
