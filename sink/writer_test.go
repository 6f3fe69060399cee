package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recWriter records every Write call separately.
type recWriter struct {
	mu     sync.Mutex
	calls  [][]byte
	syncs  int
	syncFn func() error
	// fail, when set, decides the result of a Write of p.
	fail func(p []byte) (int, error)
}

func (w *recWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	var err error
	if w.fail != nil {
		n, err = w.fail(p)
	}
	if n > 0 {
		w.calls = append(w.calls, bytes.Clone(p[:n]))
	}
	return n, err
}

func (w *recWriter) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.syncs++
	if w.syncFn != nil {
		return w.syncFn()
	}
	return nil
}

func (w *recWriter) snapshot() (calls [][]byte, all string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	calls = append([][]byte(nil), w.calls...)
	return calls, string(bytes.Join(calls, nil))
}

func testLine(g, i int) []byte {
	return fmt.Appendf(nil, `{"@timestamp":"2026-11-26T01:00:00Z","message":"goroutine %d line %d","pad":"%s"}`+"\n",
		g, i, strings.Repeat("x", (g*7+i)%90))
}

func TestWriterConcurrentWholeLines(t *testing.T) {
	const goroutines, perG = 8, 300
	for _, tc := range []struct {
		name          string
		size          int
		onePerLineCap bool // exactly one Write call per line
	}{
		{name: "unbuffered", size: 0, onePerLineCap: true},
		{name: "buffered small", size: 512},
		{name: "buffered large", size: 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &recWriter{}
			s := NewWriter(w, WriterConfig{BufferSize: tc.size, FlushInterval: time.Millisecond})
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						assert.NoError(t, s.Write(testLine(g, i)))
					}
				})
			}
			wg.Wait()
			require.NoError(t, s.Close(context.Background()))

			calls, all := w.snapshot()
			if tc.onePerLineCap {
				assert.Len(t, calls, goroutines*perG)
			}
			for _, c := range calls {
				require.True(t, bytes.HasSuffix(c, []byte("\n")), "write call ends mid-line: %q", c)
				require.True(t, bytes.HasPrefix(c, []byte(`{"@timestamp"`)), "write call starts mid-line: %q", c)
			}
			want := map[string]bool{}
			for g := range goroutines {
				for i := range perG {
					want[string(testLine(g, i))] = true
				}
			}
			lines := strings.SplitAfter(all, "\n")
			lines = lines[:len(lines)-1]
			require.Len(t, lines, goroutines*perG)
			for _, l := range lines {
				require.True(t, want[l], "unexpected or interleaved line %q", l)
				delete(want, l)
			}
		})
	}
}

func TestWriterBuffering(t *testing.T) {
	w := &recWriter{}
	s := NewWriter(w, WriterConfig{BufferSize: 100, FlushInterval: -1})
	line := []byte(strings.Repeat("a", 39) + "\n") // 40 bytes

	require.NoError(t, s.Write(line))
	require.NoError(t, s.Write(line))
	calls, _ := w.snapshot()
	assert.Empty(t, calls, "buffered lines must wait for Flush or a full buffer")

	require.NoError(t, s.Write(line)) // 120 > 100: the first two go out first
	calls, _ = w.snapshot()
	require.Len(t, calls, 1)
	assert.Equal(t, string(line)+string(line), string(calls[0]))

	big := []byte(strings.Repeat("b", 199) + "\n") // larger than the buffer
	require.NoError(t, s.Write(big))
	calls, _ = w.snapshot()
	require.Len(t, calls, 3, "pending line flushed, then the big line in one write")
	assert.Equal(t, string(line), string(calls[1]))
	assert.Equal(t, string(big), string(calls[2]))

	require.NoError(t, s.Write([]byte("no newline")))
	require.NoError(t, s.Write(nil))
	require.NoError(t, s.Flush(context.Background()))
	calls, _ = w.snapshot()
	require.Len(t, calls, 4)
	assert.Equal(t, "no newline\n", string(calls[3]))
	require.NoError(t, s.Close(context.Background()))
}

func TestWriterAddsMissingNewline(t *testing.T) {
	for _, size := range []int{0, 8, 1024} {
		t.Run(fmt.Sprint("size=", size), func(t *testing.T) {
			w := &recWriter{}
			s := NewWriter(w, WriterConfig{BufferSize: size})
			require.NoError(t, s.Write([]byte(`{"a":1}`)))
			require.NoError(t, s.Write([]byte(`{"b":2}`+"\n")))
			require.NoError(t, s.Close(context.Background()))
			_, all := w.snapshot()
			assert.Equal(t, "{\"a\":1}\n{\"b\":2}\n", all)
		})
	}
}

func TestWriterDoesNotRetainInput(t *testing.T) {
	w := &recWriter{}
	s := NewWriter(w, WriterConfig{BufferSize: 1024})
	p := []byte("first\n")
	require.NoError(t, s.Write(p))
	copy(p, "XXXXX\n")
	require.NoError(t, s.Flush(context.Background()))
	_, all := w.snapshot()
	assert.Equal(t, "first\n", all)
	require.NoError(t, s.Close(context.Background()))
}

func TestWriterShortWrite(t *testing.T) {
	short := func(p []byte) (int, error) { return len(p) - 1, nil }
	for _, size := range []int{0, 1024} {
		t.Run(fmt.Sprint("size=", size), func(t *testing.T) {
			s := NewWriter(&recWriter{fail: short}, WriterConfig{BufferSize: size})
			err := s.Write([]byte("line\n"))
			if size > 0 {
				require.NoError(t, err)
				err = s.Flush(context.Background())
			}
			require.ErrorIs(t, err, io.ErrShortWrite)
			_ = s.Close(context.Background())
		})
	}
}

func TestWriterRetriesAfterFailedFlush(t *testing.T) {
	boom := errors.New("boom")
	var failing atomic.Bool
	failing.Store(true)
	w := &recWriter{}
	w.fail = func(p []byte) (int, error) {
		if failing.Load() {
			return 3, boom // partial write
		}
		return len(p), nil
	}
	s := NewWriter(w, WriterConfig{BufferSize: 1024, FlushInterval: -1})
	require.NoError(t, s.Write([]byte("one\n")))
	require.NoError(t, s.Write([]byte("two\n")))
	require.ErrorIs(t, s.Flush(context.Background()), boom)

	failing.Store(false)
	require.NoError(t, s.Flush(context.Background()))
	_, all := w.snapshot()
	assert.Equal(t, "one\ntwo\n", all, "nothing lost, nothing doubled")
	require.NoError(t, s.Close(context.Background()))
}

func TestWriterCloseReportsUndelivered(t *testing.T) {
	boom := errors.New("disk on fire")
	w := &recWriter{fail: func([]byte) (int, error) { return 0, boom }}
	s := NewWriter(w, WriterConfig{BufferSize: 1024})
	require.NoError(t, s.Write([]byte("lost\n")))
	err := s.Close(context.Background())
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "(5 bytes) not delivered")
}

func TestWriterClosed(t *testing.T) {
	for _, size := range []int{0, 1024} {
		t.Run(fmt.Sprint("size=", size), func(t *testing.T) {
			w := &recWriter{}
			s := NewWriter(w, WriterConfig{BufferSize: size})
			require.NoError(t, s.Write([]byte("a\n")))
			require.NoError(t, s.Close(context.Background()))
			require.NoError(t, s.Close(context.Background()), "second Close")
			assert.ErrorIs(t, s.Write([]byte("b\n")), ErrClosed)
			assert.ErrorIs(t, s.Flush(context.Background()), ErrClosed)
			_, all := w.snapshot()
			assert.Equal(t, "a\n", all)
		})
	}
}

func TestWriterFlushCancelledContext(t *testing.T) {
	w := &recWriter{}
	s := NewWriter(w, WriterConfig{BufferSize: 1024, FlushInterval: -1})
	require.NoError(t, s.Write([]byte("a\n")))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Flush(ctx), context.Canceled)
	calls, _ := w.snapshot()
	assert.Empty(t, calls)

	require.NoError(t, s.Flush(context.Background()))
	_, all := w.snapshot()
	assert.Equal(t, "a\n", all)
	require.NoError(t, s.Close(ctx), "Close still delivers with an ended ctx")
}

func TestWriterFlushInterval(t *testing.T) {
	w := &recWriter{}
	s := NewWriter(w, WriterConfig{BufferSize: 1024, FlushInterval: 5 * time.Millisecond})
	require.NoError(t, s.Write([]byte("tick\n")))
	require.Eventually(t, func() bool {
		_, all := w.snapshot()
		return all == "tick\n"
	}, 2*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Close(context.Background()))
}

func TestWriterSync(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       WriterConfig
		syncErr   error
		wantSyncs int
		wantErr   error
	}{
		{name: "off by default", wantSyncs: 0},
		{name: "on", cfg: WriterConfig{Sync: true}, wantSyncs: 1},
		{name: "EINVAL ignored", cfg: WriterConfig{Sync: true}, syncErr: &os.PathError{Op: "sync", Path: "/dev/stdout", Err: syscall.EINVAL}, wantSyncs: 1},
		{name: "ENOTSUP ignored", cfg: WriterConfig{Sync: true}, syncErr: syscall.ENOTSUP, wantSyncs: 1},
		{name: "EIO reported", cfg: WriterConfig{Sync: true}, syncErr: syscall.EIO, wantSyncs: 1, wantErr: syscall.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &recWriter{syncFn: func() error { return tc.syncErr }}
			s := NewWriter(w, tc.cfg)
			require.NoError(t, s.Write([]byte("a\n")))
			err := s.Flush(context.Background())
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			w.mu.Lock()
			assert.Equal(t, tc.wantSyncs, w.syncs)
			w.mu.Unlock()
		})
	}
}

func TestWriterSyncOnPipe(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	s := NewWriter(w, WriterConfig{Sync: true})
	require.NoError(t, s.Write([]byte("piped\n")))
	require.NoError(t, s.Flush(context.Background()), "fsync EINVAL on a pipe is ignored")
	require.NoError(t, s.Close(context.Background()))
	buf := make([]byte, 6)
	_, err = io.ReadFull(r, buf)
	require.NoError(t, err)
	assert.Equal(t, "piped\n", string(buf))
}
