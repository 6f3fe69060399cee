package diskqueue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Recovery is what Open found in the state directory.
type Recovery struct {
	Acked     Pos       // the persisted acknowledged position
	AckLost   bool      // the ack file was unreadable: everything is re-sent
	Segments  int       // segments kept
	Records   int       // records after Acked, to be delivered again
	Bytes     int64     // their bytes on disk
	TornTails int       // segments whose tail was a partial record (truncated)
	TornBytes int64     // bytes truncated
	Corrupt   []Corrupt // corrupt ranges in the middle of a segment, skipped
}

// Corrupt is a range of a segment that held no valid record.
type Corrupt struct {
	At  Pos
	Len int64
}

func (r Recovery) String() string {
	s := fmt.Sprintf("%d record(s) in %d segment(s) to re-send after %s", r.Records, r.Segments, r.Acked)
	if r.AckLost {
		s += " (ack file unreadable: re-sending everything)"
	}
	if r.TornTails > 0 {
		s += fmt.Sprintf("; %d torn tail(s), %d byte(s) truncated", r.TornTails, r.TornBytes)
	}
	for _, c := range r.Corrupt {
		s += fmt.Sprintf("; corrupt %d byte(s) skipped at %s", c.Len, c.At)
	}
	return s
}

// Open opens (or creates) the queue in cfg.Dir and recovers it. It fails
// only for I/O errors, never for what a segment contains.
func Open(cfg Config) (*Queue, Recovery, error) {
	cfg.setDefaults()
	if cfg.Dir == "" {
		return nil, Recovery{}, errors.New("diskqueue: no directory")
	}
	q := &Queue{cfg: cfg, fs: cfg.FS, notify: make(chan struct{}, 1), done: make(chan struct{})}
	q.ioCond = sync.NewCond(&q.mu)
	q.spaceCond = sync.NewCond(&q.mu)
	if err := q.fs.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, Recovery{}, fmt.Errorf("diskqueue: %w", err)
	}
	rec, err := q.recover()
	if err != nil {
		return nil, rec, fmt.Errorf("diskqueue: %s: %w", cfg.Dir, err)
	}
	q.rec = rec
	if !cfg.Manual {
		q.wg.Add(1)
		go q.loop()
		if cfg.Sync == SyncBatch {
			q.kick = make(chan struct{}, 1)
			q.wg.Add(1)
			go q.committer()
		}
	}
	return q, rec, nil
}

func (q *Queue) recover() (Recovery, error) {
	var rec Recovery
	dir := q.cfg.Dir
	names, err := q.fs.ReadDir(dir)
	if err != nil {
		return rec, err
	}
	var ids []uint64
	hasAck := false
	for _, n := range names {
		if n == "ack" {
			hasAck = true
		}
		if id, ok := strings.CutSuffix(n, ".seg"); ok && len(id) == 16 {
			if v, err := strconv.ParseUint(id, 16, 64); err == nil {
				ids = append(ids, v)
			}
		}
	}
	slices.Sort(ids)
	if hasAck {
		b, err := readAll(q.fs, filepath.Join(dir, "ack"))
		if err != nil {
			return rec, err
		}
		p, ok := decodeAck(b)
		if ok {
			rec.Acked = p
		} else {
			rec.AckLost = true
		}
	}
	q.persisted = rec.Acked
	q.ackPos = rec.Acked
	removed := false
	for _, id := range ids {
		if id < rec.Acked.Seg {
			if err := q.fs.Remove(q.segPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return rec, err
			}
			removed = true
			continue
		}
		s, err := q.scanSegment(id, &rec)
		if err != nil {
			return rec, err
		}
		q.segs = append(q.segs, s)
		q.diskBytes += s.size
		q.nextSegID = id + 1
	}
	if removed {
		if err := q.fs.SyncDir(dir); err != nil {
			return rec, err
		}
	}
	q.nextSegID = max(q.nextSegID, rec.Acked.Seg+1)
	rec.Segments = len(q.segs)
	// The reader starts at the acknowledged position.
	if len(q.segs) > 0 {
		s := q.segs[0]
		q.rd.seg = s
		if s.id == rec.Acked.Seg {
			q.rd.off = min(rec.Acked.Off, s.size)
		}
	}
	if n := len(q.segs); n > 0 {
		last := q.segs[n-1]
		q.lastPos = Pos{last.id, last.size}
	}
	return rec, nil
}

// scanSegment validates segment id, truncates a torn tail and records the
// corrupt ranges; every recovered segment is sealed (new records go to a
// new one).
func (q *Queue) scanSegment(id uint64, rec *Recovery) (*segment, error) {
	path := q.segPath(id)
	b, err := readAll(q.fs, path)
	if err != nil {
		return nil, err
	}
	s := &segment{id: id, sealed: true}
	start := int64(0)
	if id == rec.Acked.Seg {
		start = min(rec.Acked.Off, int64(len(b)))
	}
	off, validEnd := int64(0), int64(0)
	for off < int64(len(b)) {
		_, n, _ := parseFrame(b[off:])
		if n > 0 {
			if off >= start {
				s.records++
				rec.Records++
				rec.Bytes += int64(n)
			}
			off += int64(n)
			validEnd = off
			continue
		}
		skip := int64(resync(b[off:]))
		// A range followed by a valid record is corrupt in the middle;
		// one that runs to the end is a torn tail.
		if off+skip < int64(len(b)) {
			if off >= start {
				rec.Corrupt = append(rec.Corrupt, Corrupt{At: Pos{id, off}, Len: skip})
			}
			s.skips = append(s.skips, span{off, off + skip})
		}
		off += skip
	}
	for len(rec.Corrupt) > 0 && rec.Corrupt[len(rec.Corrupt)-1].At.Seg == id && rec.Corrupt[len(rec.Corrupt)-1].At.Off >= validEnd {
		rec.Corrupt = rec.Corrupt[:len(rec.Corrupt)-1] // part of the torn tail
	}
	if validEnd < int64(len(b)) {
		rec.TornTails++
		rec.TornBytes += int64(len(b)) - validEnd
		f, err := q.fs.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, err
		}
		err = f.Truncate(validEnd)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		b = b[:validEnd]
	}
	s.size, s.written = int64(len(b)), int64(len(b))
	return s, nil
}

func readAll(fsys FS, name string) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	m, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:m], nil
}
