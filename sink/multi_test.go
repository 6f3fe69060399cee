package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// multiTestSink records lines and fails or blocks on demand.
type multiTestSink struct {
	mu       sync.Mutex
	lines    []string
	flushes  int
	closes   int
	failErr  error // returned by Write, Flush and Close when set
	blockCtx bool  // Flush and Close wait for ctx to end
}

func (s *multiTestSink) Write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return s.failErr
	}
	s.lines = append(s.lines, string(p))
	return nil
}

func (s *multiTestSink) Flush(ctx context.Context) error {
	if s.blockCtx {
		<-ctx.Done()
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	return s.failErr
}

func (s *multiTestSink) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closes++
	s.mu.Unlock()
	if s.blockCtx {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.failErr
}

func (s *multiTestSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func TestMultiOneFailingSink(t *testing.T) {
	boom := errors.New("boom")
	for _, failing := range []int{0, 1, 2} {
		t.Run(fmt.Sprint("failing=", failing), func(t *testing.T) {
			sinks := []*multiTestSink{{}, {}, {}}
			sinks[failing].failErr = boom
			m := Multi(sinks[0], sinks[1], sinks[2])

			check := func(op string, err error) {
				t.Helper()
				require.ErrorIs(t, err, boom, op)
				var me *MemberError
				require.ErrorAs(t, err, &me, op)
				assert.Equal(t, failing, me.Index, op)
				assert.Same(t, sinks[failing], me.Sink, op)
				assert.Contains(t, err.Error(), "multi member", op)
			}
			check("Write", m.Write([]byte("line\n")))
			check("Flush", m.Flush(context.Background()))
			check("Close", m.Close(context.Background()))

			for i, s := range sinks {
				if i == failing {
					continue
				}
				assert.Equal(t, []string{"line\n"}, s.got(), "sink %d", i)
				assert.Equal(t, 1, s.flushes, "sink %d", i)
				assert.Equal(t, 1, s.closes, "sink %d", i)
			}
		})
	}
}

func TestMultiJoinsAllFailures(t *testing.T) {
	e1, e2 := errors.New("one"), errors.New("two")
	ok := &multiTestSink{}
	m := Multi(&multiTestSink{failErr: e1}, ok, &multiTestSink{failErr: e2})
	err := m.Write([]byte("line\n"))
	require.ErrorIs(t, err, e1)
	require.ErrorIs(t, err, e2)
	assert.Equal(t, []string{"line\n"}, ok.got())
}

func TestMultiFlushAndCloseShareTheContext(t *testing.T) {
	// Two slow sinks and a fast one: the slow ones run concurrently, so the
	// whole call takes about one timeout, and the fast one is done.
	fast := &multiTestSink{}
	m := Multi(&multiTestSink{blockCtx: true}, fast, &multiTestSink{blockCtx: true})
	const timeout = 50 * time.Millisecond
	for _, op := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"Flush", m.Flush},
		{"Close", m.Close},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		err := op.fn(ctx)
		elapsed := time.Since(start)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, op.name)
		assert.Less(t, elapsed, 2*timeout+time.Second, op.name)
		var me *MemberError
		require.ErrorAs(t, err, &me, op.name)
	}
	assert.Equal(t, 1, fast.flushes)
	assert.Equal(t, 1, fast.closes)
}

func TestMultiClosed(t *testing.T) {
	a, b := &multiTestSink{}, &multiTestSink{}
	m := Multi(a, nil, b)
	require.NoError(t, m.Write([]byte("x\n")))
	require.NoError(t, m.Close(context.Background()))
	require.NoError(t, m.Close(context.Background()), "second Close")
	assert.ErrorIs(t, m.Write([]byte("y\n")), ErrClosed)
	assert.ErrorIs(t, m.Flush(context.Background()), ErrClosed)
	assert.Equal(t, 1, a.closes, "members closed once")
	assert.Equal(t, 1, b.closes)
	assert.Equal(t, []string{"x\n"}, b.got())
}

func TestMultiEmpty(t *testing.T) {
	m := Multi()
	require.NoError(t, m.Write([]byte("x\n")))
	require.NoError(t, m.Flush(context.Background()))
	require.NoError(t, m.Close(context.Background()))
}

func TestMultiOfRealSinks(t *testing.T) {
	w1, w2 := &recWriter{}, &recWriter{fail: func([]byte) (int, error) { return 0, errors.New("pipe gone") }}
	w3 := &recWriter{}
	m := Multi(NewWriter(w1, WriterConfig{}), NewWriter(w2, WriterConfig{}), NewWriter(w3, WriterConfig{BufferSize: 1024}))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				err := m.Write(testLine(g, i))
				var me *MemberError
				if assert.ErrorAs(t, err, &me) {
					assert.Equal(t, 1, me.Index)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, m.Close(context.Background()))
	_, all1 := w1.snapshot()
	_, all3 := w3.snapshot()
	assert.Equal(t, 200, strings.Count(all1, "\n"))
	assert.Equal(t, 200, strings.Count(all3, "\n"))
}
