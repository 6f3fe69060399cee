package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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

// errRecorder collects what a File reports through OnError.
type errRecorder struct {
	mu   sync.Mutex
	errs []string
}

func (r *errRecorder) add(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err.Error())
	r.mu.Unlock()
}

func (r *errRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func withReports(opts FileConfig, r *errRecorder) FileConfig {
	opts.OnError = r.add
	return opts
}

// A crash mid-write, simulated: the file ends in part of a line. The next
// run terminates it before its first line, so that line stays valid.
func TestFileTerminatesTornLastLine(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			require.NoError(t, os.WriteFile(path, []byte("{\"seq\":1}\n{\"seq\":2,\"mess"), 0o640))
			var rep errRecorder
			s, err := NewFile(path, withReports(tc.opts, &rep))
			require.NoError(t, err)
			require.NoError(t, s.Write([]byte(`{"seq":3}`+"\n")))
			require.NoError(t, s.Close(context.Background()))

			assert.Equal(t, "{\"seq\":1}\n{\"seq\":2,\"mess\n{\"seq\":3}\n", readFile(t, path))
			assert.Equal(t, uint64(1), s.Stats().TornLines)
			require.Len(t, rep.all(), 1)
			assert.Contains(t, rep.all()[0], "incomplete")

			// A whole file is left alone.
			s, err = NewFile(path, withReports(tc.opts, &rep))
			require.NoError(t, err)
			require.NoError(t, s.Close(context.Background()))
			assert.Zero(t, s.Stats().TornLines)
			assert.Len(t, rep.all(), 1)
		})
	}
}

// TestFileCrashSIGKILL kills a real writer (a child process writing 64 KiB
// batches as fast as it can) at random moments, then writes on. Whatever
// the kill left, every line of the file is either a whole line or one
// terminated fragment, and each run's lines are all intact.
func TestFileCrashSIGKILL(t *testing.T) {
	if path := os.Getenv("PIPELOG_FILE_CRASH_CHILD"); path != "" {
		fileCrashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	path := filepath.Join(t.TempDir(), "app.ndjson")
	rounds := 12 // PIPELOG_FILE_CRASH_ROUNDS=60 for the measurement
	if n, err := strconv.Atoi(os.Getenv("PIPELOG_FILE_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	var torn uint64
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileCrashSIGKILL$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PIPELOG_FILE_CRASH_CHILD="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		require.True(t, sc.Scan(), "child did not start")
		require.Equal(t, "writing", sc.Text())
		time.Sleep(time.Duration(5+rand.IntN(40)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()

		// The next run: one line of its own, written first.
		var rep errRecorder
		s, err := NewFile(path, FileConfig{OnError: rep.add})
		require.NoError(t, err)
		require.NoError(t, s.Write(fmt.Appendf(nil, `{"restart":%d}`+"\n", round)))
		require.NoError(t, s.Close(context.Background()))
		torn += s.Stats().TornLines
		assert.Len(t, rep.all(), int(s.Stats().TornLines))
	}

	content := readFile(t, path)
	require.True(t, strings.HasSuffix(content, "\n"))
	restarts, invalid := 0, 0
	for _, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(l), &v) != nil {
			invalid++
			require.True(t, strings.HasPrefix(l, `{"seq":`), "a damaged line that is not a torn child line: %.80q", l)
			continue
		}
		if r, ok := v["restart"]; ok {
			require.Equal(t, float64(restarts), r, "restart line missing or damaged")
			restarts++
		}
	}
	assert.Equal(t, rounds, restarts, "every restart's line is intact")
	assert.Equal(t, int(torn), invalid, "each torn line was found and terminated, nothing else is damaged")
	t.Logf("%d SIGKILLs mid-write: %d left a torn last line, each terminated before the next run's first line", rounds, torn)
}

// fileCrashChild writes lines in 64 KiB batches until it is killed.
func fileCrashChild(path string) {
	s, err := NewFile(path, FileConfig{BufferSize: 64 << 10, FlushInterval: -1, OnError: func(error) {}})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("writing")
	for i := 0; ; i++ {
		if err := s.Write(seqLine(i)); err != nil {
			os.Exit(3)
		}
	}
}

// failNth makes the nth write (from 1) to the file layer write only half of
// its bytes and fail with ENOSPC, as a full disk does.
func failNth(nth int) func(p []byte) (int, error) {
	calls := 0
	return func(p []byte) (int, error) {
		calls++
		if calls == nth {
			return len(p) / 2, syscall.ENOSPC
		}
		return 0, nil
	}
}

func TestFileShortWriteLeavesNoFragment(t *testing.T) {
	for _, tc := range fileModeCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			var rep errRecorder
			opts := withReports(tc.opts, &rep)
			opts.FlushInterval = -1
			s, err := NewFile(path, opts)
			require.NoError(t, err)
			nth := 2 // the second batch
			if tc.opts.BufferSize < 0 {
				nth = 4 // the fourth line
			}
			s.fault = failNth(nth)
			ctx := context.Background()
			require.NoError(t, s.Write(seqLine(0)))
			require.NoError(t, s.Flush(ctx))
			require.NoError(t, s.Write(seqLine(1)))
			require.NoError(t, s.Write(seqLine(2)))
			var werr error
			if tc.opts.BufferSize < 0 {
				werr = s.Write(seqLine(3)) // unbuffered: this write fails
			} else {
				require.NoError(t, s.Write(seqLine(3)))
				werr = s.Flush(ctx)
			}
			require.ErrorIs(t, werr, syscall.ENOSPC)
			// The file holds whole lines only, right after the failure.
			content := readFile(t, path)
			require.True(t, strings.HasSuffix(content, "\n"), "a fragment was left: %q", content[max(0, len(content)-40):])

			require.NoError(t, s.Write(seqLine(4)))
			require.NoError(t, s.Close(ctx))
			assert.Equal(t, uint64(1), s.Stats().ShortWrites)
			require.Len(t, rep.all(), 1)
			assert.Contains(t, rep.all()[0], "cut the fragment")

			want := []int{0, 1, 2, 3, 4}
			if tc.opts.BufferSize < 0 {
				want = []int{0, 1, 2, 4} // the failed Write's line was reported to its caller
			}
			var wantContent string
			for _, i := range want {
				wantContent += string(seqLine(i))
			}
			assert.Equal(t, wantContent, readFile(t, path), "retried whole, nothing joined")
		})
	}
}

// A short write whose fragment cannot be cut (the file layer fails the
// truncation too, here because the file was made read-only... by being a
// renamed-away file the path no longer names, in lumberjack mode) is
// terminated before the next line instead.
func TestFileShortWriteTerminatesWhenCutFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.ndjson")
	var rep errRecorder
	s, err := NewFile(path, FileConfig{MaxSizeMB: 1, BufferSize: -1, CheckInterval: -1, OnError: rep.add})
	require.NoError(t, err)
	require.NoError(t, s.Write(seqLine(0)))
	// lumberjack keeps writing to the renamed file; the cut goes by path,
	// which is gone now, so it fails.
	require.NoError(t, os.Rename(path, path+".1"))
	s.fault = failNth(1)
	require.ErrorIs(t, s.Write(seqLine(1)), syscall.ENOSPC)
	require.NoError(t, s.Write(seqLine(2)))
	require.NoError(t, s.Close(context.Background()))
	half := string(seqLine(1)[:len(seqLine(1))/2])
	assert.Equal(t, string(seqLine(0))+half+"\n"+string(seqLine(2)), readFile(t, path+".1"))
	assert.Equal(t, uint64(1), s.Stats().ShortWrites)
	require.Len(t, rep.all(), 1)
	assert.Contains(t, rep.all()[0], "could not be cut")
}

// The path deleted, or renamed away with a new file created in its place
// (logrotate's "create" without a signal): the sink notices at the next
// write after CheckInterval and writes to the path again.
func TestFileNoticesPathChange(t *testing.T) {
	for _, change := range []struct {
		name, old, report string
		do                func(path string) error
	}{
		{name: "deleted", report: "is gone", do: os.Remove},
		{name: "renamed, created", old: "before\n", report: "names another file", do: func(path string) error {
			if err := os.Rename(path, path+".1"); err != nil {
				return err
			}
			return os.WriteFile(path, nil, 0o640)
		}},
	} {
		for _, tc := range fileModeCases {
			t.Run(change.name+"/"+tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "app.ndjson")
				var rep errRecorder
				opts := withReports(tc.opts, &rep)
				opts.CheckInterval = time.Millisecond
				s, err := NewFile(path, opts)
				require.NoError(t, err)
				ctx := context.Background()
				require.NoError(t, s.Write([]byte("before\n")))
				require.NoError(t, s.Flush(ctx))
				require.NoError(t, change.do(path))
				time.Sleep(5 * time.Millisecond)
				require.NoError(t, s.Write([]byte("after\n")))
				require.NoError(t, s.Close(ctx))

				assert.Equal(t, "after\n", readFile(t, path))
				if change.old != "" {
					assert.Equal(t, change.old, readFile(t, path+".1"))
				}
				fi, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, FileMode, fi.Mode().Perm())
				assert.Equal(t, uint64(1), s.Stats().Reopens)
				require.Len(t, rep.all(), 1)
				assert.Contains(t, rep.all()[0], change.report)
			})
		}
	}
}

// lumberjack copies the old file's mode to the file it creates at rotation
// (and creates a file it finds missing 0600): the sink sets FileMode.
func TestFileRotatedFilesAreFileMode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		oldMode os.FileMode // of the file before the rotation
		rename  bool        // renamed away before the rotation, check off
		want    os.FileMode
	}{
		{name: "old file 0644", oldMode: 0o644, want: 0o640},
		{name: "old file 0600", oldMode: 0o600, want: 0o600},
		{name: "renamed away", oldMode: 0o640, rename: true, want: 0o640},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.ndjson")
			require.NoError(t, os.WriteFile(path, nil, tc.oldMode))
			require.NoError(t, os.Chmod(path, tc.oldMode)) // past the umask
			s, err := NewFile(path, FileConfig{MaxSizeMB: 1, BufferSize: 256 << 10, CheckInterval: -1, OnError: func(error) {}})
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, s.Write(seqLine(0)))
			require.NoError(t, s.Flush(ctx))
			if tc.rename {
				require.NoError(t, os.Rename(path, path+".away"))
			}
			for i := 1; i < 4000; i++ { // 1.3 MB: one rotation
				require.NoError(t, s.Write(seqLine(i)))
			}
			require.NoError(t, s.Close(ctx))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, fi.Mode().Perm())
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, ents, 2, "one rotation")
		})
	}
}

func TestFileCloseRepeatsItsError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.ndjson")
	s, err := NewFile(path, FileConfig{BufferSize: 64 << 10, FlushInterval: -1, OnError: func(error) {}})
	require.NoError(t, err)
	s.fault = func(p []byte) (int, error) { return 0, syscall.ENOSPC }
	require.NoError(t, s.Write(seqLine(0)))
	require.NoError(t, s.Write(seqLine(1)))
	err = s.Close(context.Background())
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Contains(t, err.Error(), "2 lines")
	assert.Equal(t, err, s.Close(context.Background()), "a second Close returns the same error")
	assert.Equal(t, Losses{Undelivered: 2}, s.Losses())
	assert.Equal(t, uint64(2), s.Stats().Undelivered)
}

// The case: the log file deleted while 1,500 more events are
// written. Buffered (the default), the check runs before each batch is
// written, so nothing written after the deletion is lost; unbuffered, only
// the lines written within CheckInterval of the deletion went to the
// deleted file.
func TestFileDeletedWhileWriting(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts FileConfig
	}{
		{name: "default", opts: FileConfig{}},
		{name: "unbuffered", opts: FileConfig{BufferSize: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.ndjson")
			var rep errRecorder
			s, err := NewFile(path, withReports(tc.opts, &rep))
			require.NoError(t, err)
			for i := range 1500 {
				require.NoError(t, s.Write(seqLine(i)))
			}
			require.NoError(t, s.Flush(context.Background()))
			require.NoError(t, os.Remove(path))
			deleted := time.Now()
			at := make([]time.Duration, 3000)
			for i := 1500; i < 3000; i++ {
				require.NoError(t, s.Write(seqLine(i)))
				at[i] = time.Since(deleted)
				time.Sleep(200 * time.Microsecond)
			}
			require.NoError(t, s.Close(context.Background()))

			first, last := checkSeqFile(t, "new file", readFile(t, path))
			assert.Equal(t, 2999, last)
			if tc.opts.BufferSize == 0 {
				assert.Equal(t, 1500, first, "nothing written after the deletion is lost")
			} else {
				// Every line lost was written before the first check after
				// the deletion, at most CheckInterval later.
				assert.Less(t, at[first-1], DefaultFileCheckInterval+50*time.Millisecond)
			}
			assert.Equal(t, uint64(1), s.Stats().Reopens)
			require.Len(t, rep.all(), 1)
			t.Logf("%s: file deleted, 1500 events written after: %d lost (written to the deleted file before the check), reported: %q",
				tc.name, first-1500, rep.all()[0])
		})
	}
}
