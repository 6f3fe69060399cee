package diskqueue

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCorruptMiddle: a record damaged in the middle of a synced segment is
// skipped with its position reported; the records around it are delivered
// and Open does not fail.
func TestCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	q, _, err := Open(Config{Dir: dir, Manual: true})
	require.NoError(t, err)
	for i := range 10 {
		require.NoError(t, q.Append(fmt.Appendf(nil, "record-%d|payload", i)))
	}
	require.NoError(t, q.Close())
	seg := filepath.Join(dir, "0000000000000001.seg")
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	fi, err := os.Stat(seg)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	rl := len(b) / 10
	b[4*rl+headerLen+2] ^= 0xff // a payload byte of record 4
	require.NoError(t, os.WriteFile(seg, b, 0o640))

	q, rec, err := Open(Config{Dir: dir, Manual: true})
	require.NoError(t, err)
	defer q.Close()
	require.Len(t, rec.Corrupt, 1, rec.String())
	assert.Equal(t, Pos{1, int64(4 * rl)}, rec.Corrupt[0].At)
	assert.Equal(t, 9, rec.Records)
	var got []string
	for {
		r, err := q.Next(canceled)
		if err != nil {
			break
		}
		got = append(got, idOf(r.Data))
	}
	assert.Equal(t, []string{"record-0", "record-1", "record-2", "record-3", "record-5", "record-6", "record-7", "record-8", "record-9"}, got)
}

// TestTornTail: a partial last record is truncated and reported.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	q, _, err := Open(Config{Dir: dir, Manual: true})
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, q.Append(fmt.Appendf(nil, "r%d|abcdef", i)))
	}
	require.NoError(t, q.Close())
	seg := filepath.Join(dir, "0000000000000001.seg")
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(seg, b[:len(b)-3], 0o640))
	q, rec, err := Open(Config{Dir: dir, Manual: true})
	require.NoError(t, err)
	defer q.Close()
	assert.Equal(t, 1, rec.TornTails)
	assert.Equal(t, int64(len(b)/3-3), rec.TornBytes)
	assert.Equal(t, 2, rec.Records)
	b2, err := os.ReadFile(seg)
	require.NoError(t, err)
	assert.Equal(t, b[:2*len(b)/3], b2, "truncated to the last whole record")
}

// TestGroupCommit: concurrent appenders under SyncBatch share fsyncs, and
// every record is readable once, in an order consistent with each
// appender's own.
func TestGroupCommit(t *testing.T) {
	q, _, err := Open(Config{Dir: t.TempDir(), SegmentBytes: 64 << 10})
	require.NoError(t, err)
	const writers, each = 16, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, q.Append(fmt.Appendf(nil, "%d-%d|x", w, i)))
			}
		})
	}
	seen := map[string]bool{}
	last := map[int]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(seen) < writers*each {
		r, err := q.Next(ctx)
		require.NoError(t, err)
		var w, i int
		_, err = fmt.Sscanf(idOf(r.Data), "%d-%d", &w, &i)
		require.NoError(t, err)
		id := idOf(r.Data)
		require.False(t, seen[id], "read twice: %s", id)
		seen[id] = true
		if p, ok := last[w]; ok {
			require.Greater(t, i, p, "writer %d out of order", w)
		}
		last[w] = i
		q.Ack(r.Seq)
	}
	wg.Wait()
	st := q.Stats()
	t.Logf("%d records, %d fsyncs: %.1f records per fsync", st.Appended, st.Fsyncs, float64(st.FsyncRecords)/float64(max(st.Fsyncs, 1)))
	assert.Less(t, st.Fsyncs, st.Appended, "no group commit")
	assert.True(t, q.Drained())
	require.NoError(t, q.Close())
}

// TestFullPolicies: DropNewest refuses and counts; Block waits for an
// acknowledgement to free a segment.
func TestFullPolicies(t *testing.T) {
	rec := []byte("0123456789|0123456789012345678901234567890123456789")
	t.Run("DropNewest", func(t *testing.T) {
		q, _, err := Open(Config{Dir: t.TempDir(), Manual: true, MaxBytes: 600, SegmentBytes: 200, Full: DropNewest})
		require.NoError(t, err)
		defer q.Close()
		n := 0
		for q.Append(rec) == nil {
			n++
		}
		assert.Equal(t, 10, n)
		assert.EqualValues(t, 1, q.Stats().Dropped)
	})
	t.Run("Block", func(t *testing.T) {
		q, _, err := Open(Config{Dir: t.TempDir(), MaxBytes: 600, SegmentBytes: 200, Full: Block, CheckpointInterval: 5 * time.Millisecond})
		require.NoError(t, err)
		defer q.Close()
		for range 10 {
			require.NoError(t, q.Append(rec))
		}
		done := make(chan error, 1)
		go func() { done <- q.Append(rec) }()
		select {
		case err := <-done:
			t.Fatalf("Append returned while full: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		for range 3 { // the first segment
			r, err := q.Next(context.Background())
			require.NoError(t, err)
			q.Ack(r.Seq)
		}
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Append still blocked after a segment was acknowledged")
		}
		assert.EqualValues(t, 1, q.Stats().Blocked)
	})
}

// holdFS is the OS file layer whose next file read (op "read") or fsync
// (op "sync"), once armed, waits until released: an operation in
// progress, held still.
type holdFS struct {
	FS
	op      string
	armed   chan struct{} // receive to hold the next op
	entered chan struct{}
	release chan struct{}
}

func newHoldFS(op string) *holdFS {
	return &holdFS{FS: OS, op: op, armed: make(chan struct{}, 1), entered: make(chan struct{}), release: make(chan struct{})}
}

type holdFile struct {
	File
	fs *holdFS
}

func (f *holdFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	h, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return holdFile{h, f}, nil
}

func (h holdFile) hold(op string) {
	if h.fs.op != op {
		return
	}
	select {
	case <-h.fs.armed:
		h.fs.entered <- struct{}{}
		<-h.fs.release
	default:
	}
}

func (h holdFile) ReadAt(p []byte, off int64) (int, error) {
	h.hold("read")
	return h.File.ReadAt(p, off)
}

func (h holdFile) Sync() error {
	h.hold("sync")
	return h.File.Sync()
}

// TestCloseWhileReading: Close while a Next is reading the file (the
// consumer is stopped by Close, as Next's doc allows) neither pulls the
// file from under the read (it was: a nil file, a panic in the host
// program, found by TestCrashConsistencyGroupCommit) nor lets the reader
// read on after it: the read in progress returns its record, the next
// one ErrClosed.
func TestCloseWhileReading(t *testing.T) {
	fsys := newHoldFS("read")
	q, _, err := Open(Config{Dir: t.TempDir(), FS: fsys, Manual: true})
	require.NoError(t, err)
	require.NoError(t, q.Append([]byte("r1|abc")))
	fsys.armed <- struct{}{}
	type result struct {
		data string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		r, err := q.Next(context.Background())
		got <- result{string(r.Data), err}
	}()
	<-fsys.entered
	closed := make(chan error, 1)
	go func() { closed <- q.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned during a read: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(fsys.release)
	res := <-got
	require.NoError(t, res.err)
	assert.Equal(t, "r1|abc", res.data)
	require.NoError(t, <-closed)
	_, err = q.Next(context.Background())
	assert.ErrorIs(t, err, ErrClosed)
	assert.Zero(t, q.Stats().Corrupt)
}

// TestConcurrentCheckpoints: a Checkpoint while another is writing the ack
// file waits for it. Before, the second truncated and rewrote ack.tmp
// under the first, whose rename then failed (or, at a crash, published a
// half-written ack: TestCrashConsistencyGroupCommit/dropoldest saw a
// checkpointed record re-sent once in CI).
func TestConcurrentCheckpoints(t *testing.T) {
	fsys := newHoldFS("sync")
	dir := t.TempDir()
	q, _, err := Open(Config{Dir: dir, FS: fsys, Manual: true})
	require.NoError(t, err)
	defer q.Close()
	for i := range 3 {
		require.NoError(t, q.Append([]byte(fmt.Sprintf("r%d|x", i))))
	}
	require.NoError(t, q.Sync())
	r1, err := q.Next(context.Background())
	require.NoError(t, err)
	q.Ack(r1.Seq)
	fsys.armed <- struct{}{} // hold the first checkpoint's fsync of ack.tmp
	first := make(chan error, 1)
	go func() { first <- q.Checkpoint() }()
	<-fsys.entered
	r2, err := q.Next(context.Background())
	require.NoError(t, err)
	q.Ack(r2.Seq)
	second := make(chan error, 1)
	go func() { second <- q.Checkpoint() }()
	select {
	case err := <-second:
		t.Errorf("a second Checkpoint ran under the first (returned %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(fsys.release)
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	b, err := os.ReadFile(filepath.Join(dir, "ack"))
	require.NoError(t, err)
	p, ok := decodeAck(b)
	require.True(t, ok, "ack file %q does not decode", b)
	assert.Equal(t, r2.Pos, p)
}

// TestDropOldestWhileWriting: under DropOldest, a segment whose records
// wait for the committer (not yet written) is not the one dropped: the
// drop would remove a file not yet created, the write-out then create it,
// and its records, counted as dropped, be outside the byte bound and sent
// again after a restart.
func TestDropOldestWhileWriting(t *testing.T) {
	dir := t.TempDir()
	fsys := newHoldFS("sync")
	rec := func(i int) []byte { return fmt.Appendf(nil, "%d|%030d", i, i) } // 40-byte frames
	q, _, err := Open(Config{Dir: dir, FS: fsys, Full: DropOldest, SegmentBytes: 80, MaxBytes: 200})
	require.NoError(t, err)
	fsys.armed <- struct{}{}
	errs := make(chan error, 8)
	appendAsync := func(i int) {
		go func() { errs <- q.Append(rec(i)) }()
		for q.Stats().Appended+q.Stats().Dropped < int64(i) {
			time.Sleep(time.Millisecond)
		}
	}
	appendAsync(1) // segment 1, its fsync held
	<-fsys.entered
	for i := 2; i <= 6; i++ { // 2: segment 1; 3, 4: segment 2; 5, 6: segment 3 (full at 6)
		appendAsync(i)
	}
	close(fsys.release)
	for range 6 {
		<-errs
	}
	st := q.Stats()
	require.NoError(t, q.Close())
	var onDisk int64
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, n := range names {
		if filepath.Ext(n.Name()) == ".seg" {
			fi, err := n.Info()
			require.NoError(t, err)
			onDisk += fi.Size()
		}
	}
	assert.Equal(t, st.DiskBytes, onDisk, "segment bytes on disk vs the queue's count (dropped oldest: %d)", st.DroppedOldest)
	assert.LessOrEqual(t, onDisk, int64(200))
}
