package elasticsearch

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
)

// requestTimes records when each bulk request (1-based) reached the fake.
type requestTimes struct {
	mu sync.Mutex
	at []time.Time
}

func (r *requestTimes) hook(*http.Request) {
	r.mu.Lock()
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
}

func (r *requestTimes) get(n int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[n-1]
}

// TestElasticsearchBackoffResetsAfterSuccess: ten failed requests grow the
// shared backoff towards a second; one success resets it, so the retry of
// the next failure comes after about RetryBackoffMin.
func TestElasticsearchBackoffResetsAfterSuccess(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	times := &requestTimes{}
	fake.FaultFunc(func(n int) esfake.Fault {
		if n <= 10 || n == 12 {
			return esfake.Fault{Status: 503, Hook: times.hook}
		}
		return esfake.Fault{Hook: times.hook}
	})
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.Workers = 1
	cfg.RetryBackoffMin, cfg.RetryBackoffMax = time.Millisecond, 2*time.Second
	s, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Write(testDoc("reset", 0)))
	require.NoError(t, s.Flush(ctx)) // requests 1–10 fail, 11 succeeds
	grown := times.get(10).Sub(times.get(9))
	require.NoError(t, s.Write(testDoc("reset", 1)))
	require.NoError(t, s.Flush(ctx)) // 12 fails, 13 succeeds
	gap := times.get(13).Sub(times.get(12))
	require.NoError(t, s.Close(ctx))
	t.Logf("backoff before the 10th attempt %s; after a success, retry after %s", grown, gap)
	assert.Greater(t, grown, 100*time.Millisecond, "the backoff grew")
	assert.Less(t, gap, grown/2, "the backoff was reset by the success")
}

// TestElasticsearch413SplitBacksOff: halving a batch after a 413 waits a
// backoff (growing with each halving) instead of resending at once.
func TestElasticsearch413SplitBacksOff(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	fake.MaxItems(5)
	times := &requestTimes{}
	fake.FaultFunc(func(int) esfake.Fault { return esfake.Fault{Hook: times.hook} })
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.FlushEvents, cfg.Workers = 40, 1
	cfg.RetryBackoffMin, cfg.RetryBackoffMax = 40*time.Millisecond, time.Second
	s, err := New(cfg)
	require.NoError(t, err)
	ids := make([]string, 40)
	for i := range ids {
		require.NoError(t, s.Write(testDoc("split", i)))
		ids[i] = testID("split", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Flush(ctx))
	require.NoError(t, s.Close(ctx))
	indexed, _ := reconcile(t, fake, dl, ids)
	assert.Equal(t, 40, indexed)
	// 40 → 20 → 10 → 5: three halvings before the first request that
	// fits, each after a backoff of at least half of 40, 80, 160ms.
	first := times.get(1)
	fits := times.get(4)
	t.Logf("first 413 to the first request that fits: %s", fits.Sub(first))
	assert.GreaterOrEqual(t, fits.Sub(first), 140*time.Millisecond)
}
