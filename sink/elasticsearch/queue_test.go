package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
