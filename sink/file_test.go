package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requirePermAtMost fails unless path's permission bits are within max
// (max or tighter).
func requirePermAtMost(t *testing.T, path string, max os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	perm := fi.Mode().Perm()
	require.Zero(t, perm&^max, "%s has mode %v, want %v or tighter", path, perm, max)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

var fileModeCases = []struct {
	name string
	opts FileConfig
}{
	{name: "direct", opts: FileConfig{}},
	{name: "direct unbuffered", opts: FileConfig{BufferSize: -1}},
	{name: "lumberjack", opts: FileConfig{MaxSizeMB: 1, MaxBackups: 2}},
}

func TestFileCreatesWithRestrictedModes(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "a", "b", "app.ndjson")
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			require.NoError(t, s.Write([]byte(`{"message":"hi"}`+"\n")))
			require.NoError(t, s.Close(context.Background()))

			assert.Equal(t, "{\"message\":\"hi\"}\n", readFile(t, path))
			requirePermAtMost(t, path, 0o640)
			requirePermAtMost(t, filepath.Join(root, "a"), 0o750)
			requirePermAtMost(t, filepath.Join(root, "a", "b"), 0o750)
		})
	}
}

func TestFileAppendsToExisting(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o600))
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			require.NoError(t, s.Write([]byte("new\n")))
			require.NoError(t, s.Close(context.Background()))
			assert.Equal(t, "old\nnew\n", readFile(t, path))
			requirePermAtMost(t, path, 0o600) // an operator's mode is kept
		})
	}
}

func TestFileConcurrentWritersWholeLines(t *testing.T) {
	const goroutines, perG = 8, 500
	for _, tc := range []struct {
		name string
		opts FileConfig
	}{
		{name: "direct buffered", opts: FileConfig{BufferSize: 4096, FlushInterval: time.Millisecond}},
		{name: "direct unbuffered", opts: FileConfig{BufferSize: -1}},
		{name: "lumberjack", opts: FileConfig{MaxSizeMB: 10, BufferSize: 4096}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						assert.NoError(t, s.Write(testLine(g, i)))
						if i%100 == 0 {
							assert.NoError(t, s.Flush(context.Background()))
						}
					}
				})
			}
			wg.Wait()
			require.NoError(t, s.Close(context.Background()))

			want := map[string]bool{}
			for g := range goroutines {
				for i := range perG {
					want[string(testLine(g, i))] = true
				}
			}
			content := readFile(t, path)
			require.True(t, strings.HasSuffix(content, "\n"))
			lines := strings.SplitAfter(content, "\n")
			lines = lines[:len(lines)-1]
			require.Len(t, lines, goroutines*perG)
			for _, l := range lines {
				require.True(t, want[l], "unexpected or interleaved line %q", l)
				delete(want, l)
			}
		})
	}
}

// seqLine is a ~350-byte line carrying its sequence number.
func seqLine(i int) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"message":"%s"}`+"\n", i, strings.Repeat("m", 330))
}

// checkSeqFile checks that every line of content is a whole seqLine and that
// the sequence numbers are consecutive; it returns the first and last.
func checkSeqFile(t *testing.T, name, content string) (first, last int) {
	t.Helper()
	require.NotEmpty(t, content, name)
	require.True(t, strings.HasSuffix(content, "\n"), "%s ends mid-line", name)
	sc := bufio.NewScanner(strings.NewReader(content))
	sc.Buffer(make([]byte, 4096), 4096)
	first, last = -1, -1
	for sc.Scan() {
		l := sc.Text()
		require.True(t, strings.HasPrefix(l, `{"seq":`), "%s: line split: %.60q", name, l)
		numEnd := strings.IndexByte(l, ',')
		require.Positive(t, numEnd, "%s: line split: %.60q", name, l)
		n, err := strconv.Atoi(l[len(`{"seq":`):numEnd])
		require.NoError(t, err)
		require.Equal(t, string(seqLine(n)), l+"\n", "%s: line %d damaged", name, n)
		if first < 0 {
			first = n
		} else {
			require.Equal(t, last+1, n, "%s: lines out of sequence", name)
		}
		last = n
	}
	require.NoError(t, sc.Err())
	return first, last
}

func TestFileRotationBySize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress bool
		bufSize  int
	}{
		{name: "plain", bufSize: 100 << 10},
		{name: "unbuffered", bufSize: -1},
		{name: "compressed", compress: true, bufSize: 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.ndjson")
			s, err := NewFile(path, FileConfig{
				MaxSizeMB: 1, MaxBackups: 2, Compress: tc.compress,
				BufferSize: tc.bufSize, FlushInterval: -1,
			})
			require.NoError(t, err)

			// ~5.3 MB: five rotations. lumberjack names backups by the
			// millisecond, so pause between batches to keep names distinct.
			const total = 16000
			for i := range total {
				require.NoError(t, s.Write(seqLine(i)))
				if i%500 == 499 {
					require.NoError(t, s.Flush(context.Background()))
					time.Sleep(2 * time.Millisecond)
				}
			}
			require.NoError(t, s.Close(context.Background()))

			backupsOf := func() []string {
				ents, err := os.ReadDir(dir)
				require.NoError(t, err)
				var names []string
				for _, e := range ents {
					if e.Name() != "app.ndjson" {
						names = append(names, e.Name())
					}
				}
				return names
			}
			// Removal and compression run in lumberjack's mill goroutine.
			require.Eventually(t, func() bool {
				names := backupsOf()
				if len(names) != 2 {
					return false
				}
				for _, n := range names {
					if tc.compress != strings.HasSuffix(n, ".gz") {
						return false
					}
				}
				return true
			}, 5*time.Second, 10*time.Millisecond, "want 2 backups, have %v", backupsOf())

			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.LessOrEqual(t, fi.Size(), int64(1<<20))
			requirePermAtMost(t, path, 0o640)

			// Backups sort by name = by time; together with the current file
			// they hold the newest lines, consecutively, with no line split.
			names := backupsOf()
			next := -1
			for _, n := range append(names, "app.ndjson") {
				p := filepath.Join(dir, n)
				requirePermAtMost(t, p, 0o640)
				content := readFile(t, p)
				if strings.HasSuffix(n, ".gz") {
					zr, err := gzip.NewReader(strings.NewReader(content))
					require.NoError(t, err)
					b, err := io.ReadAll(zr)
					require.NoError(t, err)
					content = string(b)
				}
				assert.LessOrEqual(t, len(content), 1<<20, n)
				first, last := checkSeqFile(t, n, content)
				if next >= 0 {
					require.Equal(t, next, first, "%s does not continue the previous file", n)
				}
				next = last + 1
			}
			require.Equal(t, total, next, "the current file ends with the last line")
		})
	}
}

func TestFileReopenAfterRename(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.ndjson")
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			require.NoError(t, s.Write([]byte("before\n")))
			require.NoError(t, s.Flush(context.Background()))

			require.NoError(t, os.Rename(path, path+".1")) // logrotate
			require.NoError(t, s.Write([]byte("pending\n")))
			require.NoError(t, s.Reopen())
			require.NoError(t, s.Write([]byte("after\n")))
			require.NoError(t, s.Close(context.Background()))

			assert.Equal(t, "before\npending\n", readFile(t, path+".1"))
			assert.Equal(t, "after\n", readFile(t, path))
			requirePermAtMost(t, path, 0o640)
		})
	}
}

func TestFileReopenOnSignal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.ndjson")
	s, err := NewFile(path, FileConfig{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := s.ReopenOnSignal(ctx, syscall.SIGHUP)

	require.NoError(t, s.Write([]byte("before\n")))
	require.NoError(t, os.Rename(path, path+".1"))
	proc, err := os.FindProcess(os.Getpid())
	require.NoError(t, err)
	require.NoError(t, proc.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		_, err := os.Stat(path)
		return err == nil
	}, 5*time.Second, 5*time.Millisecond, "SIGHUP did not reopen the file")

	require.NoError(t, s.Write([]byte("after\n")))
	cancel()
	for err := range errc { // closed when the watch stops
		assert.NoError(t, err)
	}
	require.NoError(t, s.Close(context.Background()))
	assert.Equal(t, "before\n", readFile(t, path+".1"))
	assert.Equal(t, "after\n", readFile(t, path))
}

func TestFileClosed(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			errc := s.ReopenOnSignal(context.Background(), syscall.SIGHUP)
			require.NoError(t, s.Write([]byte("a\n")))
			require.NoError(t, s.Close(context.Background()))
			require.NoError(t, s.Close(context.Background()), "second Close")
			assert.ErrorIs(t, s.Write([]byte("b\n")), ErrClosed)
			assert.ErrorIs(t, s.Flush(context.Background()), ErrClosed)
			assert.ErrorIs(t, s.Reopen(), ErrClosed)
			for range errc { // Close stops the signal watch
			}
			assert.Equal(t, "a\n", readFile(t, path))
		})
	}
}

func TestFileFlushCancelledContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.ndjson")
	s, err := NewFile(path, FileConfig{FlushInterval: -1})
	require.NoError(t, err)
	require.NoError(t, s.Write([]byte("a\n")))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Flush(ctx), context.Canceled)
	assert.Empty(t, readFile(t, path), "a cancelled Flush writes nothing")

	require.NoError(t, s.Flush(context.Background()))
	assert.Equal(t, "a\n", readFile(t, path))
	require.NoError(t, s.Close(ctx))
}

func TestFileBuffering(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        FileConfig
		visibleNow  bool // visible without Flush
		visibleSoon bool // visible through the flush interval
	}{
		{name: "default buffer, interval", opts: FileConfig{FlushInterval: 5 * time.Millisecond}, visibleSoon: true},
		{name: "no interval", opts: FileConfig{FlushInterval: -1}},
		{name: "unbuffered", opts: FileConfig{BufferSize: -1}, visibleNow: true},
		{name: "lumberjack unbuffered", opts: FileConfig{MaxSizeMB: 1, BufferSize: -1}, visibleNow: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			require.NoError(t, s.Write([]byte("line\n")))
			switch {
			case tc.visibleNow:
				assert.Equal(t, "line\n", readFile(t, path))
			case tc.visibleSoon:
				assert.Eventually(t, func() bool { return readFile(t, path) == "line\n" },
					2*time.Second, 5*time.Millisecond)
			default:
				time.Sleep(20 * time.Millisecond)
				assert.Empty(t, readFile(t, path))
			}
			require.NoError(t, s.Flush(context.Background()))
			assert.Equal(t, "line\n", readFile(t, path))
			require.NoError(t, s.Close(context.Background()))
		})
	}
}

func TestFileSync(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Sync = true
			path := filepath.Join(t.TempDir(), "app.ndjson")
			s, err := NewFile(path, opts)
			require.NoError(t, err)
			require.NoError(t, s.Flush(context.Background()))
			require.NoError(t, s.Write([]byte("a\n")))
			require.NoError(t, s.Flush(context.Background()))
			require.NoError(t, s.Close(context.Background()))
			assert.Equal(t, "a\n", readFile(t, path))
		})
	}
}

func TestFileLineLongerThanBuffer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.ndjson")
	s, err := NewFile(path, FileConfig{BufferSize: 64, FlushInterval: -1})
	require.NoError(t, err)
	long := append(bytes.Repeat([]byte("z"), 200), '\n')
	require.NoError(t, s.Write([]byte("short\n")))
	require.NoError(t, s.Write(long))
	assert.Equal(t, "short\n"+string(long), readFile(t, path), "long line written through, in order")
	require.NoError(t, s.Close(context.Background()))
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := NewFile(filepath.Join(dir, "x.ndjson"), FileConfig{MaxSizeMB: -1})
	require.Error(t, err)

	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	_, err = NewFile(filepath.Join(blocker, "x.ndjson"), FileConfig{})
	require.Error(t, err, "parent is a file")
}

func TestFileWriteErrorNamesThePath(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts FileConfig
	}{
		{"unbuffered", FileConfig{BufferSize: -1}},
		{"buffer full", FileConfig{BufferSize: 8, FlushInterval: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			s, err := NewFile(path, tc.opts)
			require.NoError(t, err)
			require.NoError(t, s.f.Close()) // the descriptor fails behind the sink's back
			err = s.Write([]byte("line\n"))
			if err == nil {
				err = s.Write([]byte("line\n")) // the buffered case fails when it flushes
			}
			require.ErrorIs(t, err, os.ErrClosed)
			assert.Contains(t, err.Error(), "sink: file "+path+": ")
			require.NoError(t, s.Write(nil), "an empty line is not written")
			_ = s.Close(context.Background())
			assert.ErrorIs(t, s.Write([]byte("late\n")), ErrClosed)
		})
	}
}

// The default buffer (1 MiB) is as large as the smallest rotation limit:
// a full buffer is one batch that lumberjack must accept whole, into the
// current file or the next, never split between them.
func TestFileDefaultBufferAtSmallestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.ndjson")
	s, err := NewFile(path, FileConfig{MaxSizeMB: 1, FlushInterval: -1})
	require.NoError(t, err)
	require.Equal(t, 1<<20, cap(s.buf), "the buffer is capped at the rotation limit")
	const total = 6500 // ~2.3 MB: two full buffers and then some
	for i := range total {
		require.NoError(t, s.Write(seqLine(i)))
		if i%2000 == 1999 {
			// lumberjack names backups by the millisecond: keep two
			// rotations (~2900 lines apart) in different ones.
			time.Sleep(2 * time.Millisecond)
		}
	}
	require.NoError(t, s.Close(context.Background()))

	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ents), 2, "it rotated")
	next := 0
	for _, e := range ents { // backups sort by time, before app.ndjson
		if e.Name() == "app.ndjson" {
			continue
		}
		content := readFile(t, filepath.Join(dir, e.Name()))
		assert.LessOrEqual(t, len(content), 1<<20, e.Name())
		first, last := checkSeqFile(t, e.Name(), content)
		require.Equal(t, next, first, "%s does not continue the previous file", e.Name())
		next = last + 1
	}
	first, last := checkSeqFile(t, "app.ndjson", readFile(t, path))
	require.Equal(t, next, first)
	require.Equal(t, total-1, last)
}
