package diskqueue

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// SyncPolicy says when an appended record is durable (see the package doc).
type SyncPolicy int

const (
	SyncBatch SyncPolicy = iota
	SyncInterval
	SyncNone
)

// FullPolicy says what Append does when the queue holds MaxBytes.
type FullPolicy int

const (
	Block FullPolicy = iota
	DropNewest
	DropOldest
)

// Config configures a queue; zero fields take the documented defaults.
type Config struct {
	Dir  string // the state directory (created 0750 if absent); required
	FS   FS     // default OS
	Sync SyncPolicy
	// SyncInterval (default 1s) is the fsync period of SyncInterval;
	// WriteInterval (default 10ms) how long a record may wait in memory
	// before it is written, outside SyncBatch.
	SyncInterval  time.Duration
	WriteInterval time.Duration
	// CheckpointInterval (default 100ms) is how often the acknowledged
	// position is persisted.
	CheckpointInterval time.Duration
	SegmentBytes       int64 // default 8 MiB
	MaxBytes           int64 // default 1 GiB
	Full               FullPolicy
	// Manual starts no goroutine: the caller calls WriteOut, Sync and
	// Checkpoint (tests drive the queue step by step this way).
	Manual bool
}

var (
	ErrClosed   = errors.New("diskqueue: closed")
	ErrFull     = errors.New("diskqueue: full, record dropped")
	ErrTooLarge = errors.New("diskqueue: record larger than the queue takes")
)

// Pos is a position in the queue: a segment and a byte offset in it.
type Pos struct {
	Seg uint64
	Off int64
}

// Less orders positions.
func (p Pos) Less(o Pos) bool { return p.Seg < o.Seg || p.Seg == o.Seg && p.Off < o.Off }

func (p Pos) String() string { return fmt.Sprintf("%016x.seg@%d", p.Seg, p.Off) }

type segment struct {
	id      uint64
	size    int64 // bytes assigned to it (written or waiting)
	written int64 // bytes written to the file
	records int   // records assigned to it
	sealed  bool  // takes no more records
	removed bool
	skips   []span // corrupt ranges found at Open
}

type span struct{ from, to int64 }

// commit is one group commit: done is closed once every record appended
// to it is durable, or the write-out failed (err, set before the close).
type commit struct {
	done chan struct{}
	err  error
}

type pendChunk struct {
	seg  *segment
	data []byte
}

// Queue is a disk queue. See the package doc.
type Queue struct {
	cfg Config
	fs  FS

	mu        sync.Mutex
	ckmu      sync.Mutex // serialises Checkpoint (its ack file and persisted)
	ioCond    *sync.Cond // ioBusy ended
	spaceCond *sync.Cond // bytes freed or closed
	segs      []*segment // oldest first; the last may be the active one
	active    *segment
	pend      []pendChunk
	free      [][]byte // written chunks' buffers, to reuse
	pendBytes int
	// cur is the group commit the SyncBatch appenders since the last
	// fsync wait for (nil: none waits); the next fsyncing write-out
	// takes it and closes its channel.
	cur       *commit
	ioBusy    bool
	kick      chan struct{} // to the committer: cur is set (not Manual)
	ioErr     error
	diskBytes int64
	lastPos   Pos // end of the last appended record
	closed    bool
	nextSegID uint64

	wfile File // open for appending: the active segment's
	// wseg is wfile's segment: written by the write-out (the goroutine
	// that set ioBusy) under mu, as Checkpoint and DropOldest read it.
	wseg  *segment
	dirty []uint64 // segments closed without fsync (SyncNone), for Sync

	notify chan struct{} // data was written (for the reader)
	done   chan struct{}
	wg     sync.WaitGroup

	rd reader

	amu        sync.Mutex
	acks       []ackEntry // records read, oldest first, from seq ackHead
	ackHead    uint64
	ackPos     Pos // every record up to here is acknowledged
	persisted  Pos
	ackChanged bool

	st struct {
		appended, fsyncs, fsyncRecords, dropped, droppedOldest, blocked int64
	}
	rec Recovery
}

// Stats are the queue's counters.
type Stats struct {
	Appended      int64 // records accepted
	Fsyncs        int64 // fsyncs of segment data
	FsyncRecords  int64 // records made durable by those fsyncs (÷ Fsyncs: group size)
	Dropped       int64 // DropNewest refusals
	DroppedOldest int64 // unread records deleted by DropOldest
	Blocked       int64 // Appends that waited for space
	DiskBytes     int64
	Corrupt       int64 // corrupt records skipped while reading (after Open's)
}

func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Appended: q.st.appended, Fsyncs: q.st.fsyncs, FsyncRecords: q.st.fsyncRecords,
		Dropped: q.st.dropped, DroppedOldest: q.st.droppedOldest, Blocked: q.st.blocked,
		DiskBytes: q.diskBytes, Corrupt: q.rd.corrupt}
}

func (cfg *Config) setDefaults() {
	if cfg.FS == nil {
		cfg.FS = OS
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Second
	}
	if cfg.WriteInterval <= 0 {
		cfg.WriteInterval = 10 * time.Millisecond
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = 100 * time.Millisecond
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = 8 << 20
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 30
	}
	cfg.MaxBytes = max(cfg.MaxBytes, 2*frameLen(0))
}

const (
	pendLimit = 1 << 20 // outside SyncBatch, an Append writes out beyond this
	pendMax   = 4 << 20 // and waits for the disk beyond this
)

func (q *Queue) segPath(id uint64) string {
	return filepath.Join(q.cfg.Dir, fmt.Sprintf("%016x.seg", id))
}

// Append adds one record. Under SyncBatch it returns once the record is
// durable. It returns ErrFull (DropNewest, or DropOldest with nothing
// older to drop), ErrTooLarge, ErrClosed, or the I/O error that broke the
// queue (a broken queue takes nothing more).
func (q *Queue) Append(p []byte) error {
	fl := frameLen(len(p))
	if len(p) == 0 || len(p) > MaxRecord || fl > q.cfg.MaxBytes/2 {
		return ErrTooLarge
	}
	q.mu.Lock()
	c, err := q.appendLocked(p, fl)
	if c == nil {
		q.mu.Unlock()
		return err
	}
	if q.cfg.Manual {
		err = q.leadLocked(c)
		q.mu.Unlock()
		return err
	}
	// One committer goroutine writes and fsyncs group after group, so
	// the disk never waits for a woken appender to take the lead; each
	// appender waits on its group's channel, woken once, without the lock.
	select {
	case q.kick <- struct{}{}:
	default:
	}
	q.mu.Unlock()
	<-c.done
	return c.err
}

// appendLocked adds the record to what is pending; under SyncBatch it
// returns the group commit to wait for.
func (q *Queue) appendLocked(p []byte, fl int64) (*commit, error) {
	if q.closed {
		return nil, ErrClosed
	}
	if q.ioErr != nil {
		return nil, q.ioErr
	}
	waited := false
	for q.diskBytes+fl > q.cfg.MaxBytes {
		switch {
		case q.cfg.Full == DropOldest && q.dropOldestLocked():
			continue
		case q.cfg.Full == Block:
			if !waited {
				waited = true
				q.st.blocked++
			}
			q.spaceCond.Wait()
			if q.closed {
				return nil, ErrClosed
			}
			if q.ioErr != nil {
				return nil, q.ioErr
			}
			continue
		}
		q.st.dropped++
		return nil, ErrFull
	}
	// Memory bound: while a write (or an fsync) is slow, what waits for
	// the next one is at most pendMax; then appenders wait for the disk.
	for q.pendBytes >= pendMax && q.ioBusy && q.ioErr == nil && !q.closed {
		q.ioCond.Wait()
	}
	a := q.active
	if a == nil || a.size > 0 && a.size+fl > q.cfg.SegmentBytes {
		if a != nil {
			a.sealed = true
		}
		a = &segment{id: q.nextSegID}
		q.nextSegID++
		q.segs = append(q.segs, a)
		q.active = a
	}
	if n := len(q.pend); n == 0 || q.pend[n-1].seg != a {
		var buf []byte
		if k := len(q.free); k > 0 {
			buf, q.free = q.free[k-1], q.free[:k-1]
		} else {
			buf = make([]byte, 0, 256<<10)
		}
		q.pend = append(q.pend, pendChunk{seg: a, data: buf})
	}
	c := &q.pend[len(q.pend)-1]
	c.data = appendFrame(c.data, p)
	q.pendBytes += int(fl)
	a.size += fl
	a.records++
	q.diskBytes += fl
	q.lastPos = Pos{a.id, a.size}
	q.st.appended++
	switch {
	case q.cfg.Sync == SyncBatch:
		if q.cur == nil {
			q.cur = &commit{done: make(chan struct{})}
		}
		return q.cur, nil
	case q.pendBytes >= pendLimit && !q.ioBusy:
		q.writeOutLocked(false)
	}
	return nil, nil
}

// LastPos is the end of the last appended record: Acked reaching it means
// everything appended so far was acknowledged.
func (q *Queue) LastPos() Pos {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lastPos
}

// dropOldestLocked deletes the oldest sealed segment; false if there is none.
func (q *Queue) dropOldestLocked() bool {
	var s *segment
	for _, c := range q.segs {
		// Written out entirely: a segment whose records still wait
		// for (or are in) a write-out would be created after its
		// removal, outside the bound, and read again at the next Open.
		if c.sealed && c != q.wseg && c.written == c.size {
			s = c
			break
		}
	}
	if s == nil {
		return false
	}
	unread := s.records
	switch {
	case q.rd.seg == s:
		unread -= q.rd.readInSeg
	case q.rd.seg != nil && s.id < q.rd.seg.id:
		unread = 0
	}
	s.removed = true
	q.removeSegLocked(s)
	_ = q.fs.Remove(q.segPath(s.id))
	_ = q.fs.SyncDir(q.cfg.Dir)
	q.st.droppedOldest += int64(unread)
	return true
}

func (q *Queue) removeSegLocked(s *segment) {
	for i, c := range q.segs {
		if c == s {
			q.segs = append(q.segs[:i:i], q.segs[i+1:]...)
			q.diskBytes -= s.size
			q.spaceCond.Broadcast()
			return
		}
	}
}
