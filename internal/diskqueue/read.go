package diskqueue

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Record is one record read back. Data is valid until the next Next.
type Record struct {
	Seq  uint64 // for Ack
	Pos  Pos    // its end
	Data []byte
}

// reader is the state of the one goroutine that calls Next; the fields
// Append's DropOldest looks at (seg, readInSeg) change under q.mu. mu is
// held while a Next runs, except while it waits: Close takes it to close
// the file, so it never pulls the file from under a read in progress.
type reader struct {
	mu        sync.Mutex
	seg       *segment
	off       int64
	readInSeg int
	file      File
	buf       []byte // file bytes [bufOff, bufOff+len(buf))
	bufOff    int64
	seq       uint64
	corrupt   int64
	onCorrupt func(Pos, int64)
}

func (r *reader) closeFile() {
	if r.file != nil {
		_ = r.file.Close()
		r.file = nil
	}
	r.buf, r.bufOff = r.buf[:0], 0
}

type ackEntry struct {
	pos   Pos
	acked bool
}

// OnCorrupt sets a function called (from Next) with the position and length
// of each corrupt range the reader skips after Open.
func (q *Queue) OnCorrupt(fn func(at Pos, n int64)) { q.rd.onCorrupt = fn }

// Next returns the next record, waiting for one until ctx ends or the
// queue is closed (ErrClosed). One goroutine only.
func (q *Queue) Next(ctx context.Context) (Record, error) {
	var one [1]Record
	recs, err := q.ReadBatch(ctx, 1, one[:0])
	if err != nil {
		return Record{}, err
	}
	return recs[0], nil
}

// ReadBatch appends to recs up to max records that are ready (at least
// one: it waits as Next does), with one round of locking for all of them.
// Their Data are valid until the next Next or ReadBatch.
func (q *Queue) ReadBatch(ctx context.Context, max int, recs []Record) ([]Record, error) {
	r := &q.rd
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return recs, ErrClosed
		}
		if r.seg == nil || r.seg.removed {
			r.closeFile()
			next := q.segAfterLocked(r.seg)
			if next == nil {
				q.mu.Unlock()
				if err := q.readWait(ctx); err != nil {
					return recs, err
				}
				continue
			}
			r.seg, r.off, r.readInSeg = next, 0, 0
		}
		s := r.seg
		written, complete := s.written, s.sealed && s.written == s.size
		for _, sp := range s.skips {
			if r.off >= sp.from && r.off < sp.to {
				r.off = sp.to
			}
		}
		if r.off >= written {
			if complete {
				r.seg = q.segAfterLocked(s)
				r.off, r.readInSeg = 0, 0
				r.closeFile()
				if r.seg != nil {
					q.mu.Unlock()
					continue
				}
				r.seg = s // stay: nothing after it yet
				r.off = written
			}
			q.mu.Unlock()
			if err := q.readWait(ctx); err != nil {
				return recs, err
			}
			continue
		}
		q.mu.Unlock()

		b, err := r.window(q, s, written)
		if err != nil {
			return recs, err
		}
		payload, n, need := parseFrame(b)
		if n == 0 && need > 0 && r.off+int64(need) > written && !complete {
			if err := q.readWait(ctx); err != nil { // the rest is not written yet
				return recs, err
			}
			continue
		}
		if n == 0 {
			skip := int64(resync(b))
			at := Pos{s.id, r.off}
			q.mu.Lock()
			r.off += skip
			r.corrupt++
			q.mu.Unlock()
			if r.onCorrupt != nil {
				r.onCorrupt(at, skip)
			}
			continue
		}
		// More whole records that are already written, without locking.
		first := len(recs)
		off := r.off + int64(n)
		recs = append(recs, Record{Pos: Pos{s.id, off}, Data: payload})
		for k := n; len(recs)-first < max && off < written; {
			p, m, _ := parseFrame(b[k:])
			if m == 0 {
				break
			}
			k += m
			off += int64(m)
			recs = append(recs, Record{Pos: Pos{s.id, off}, Data: p})
		}
		q.mu.Lock()
		r.off = off
		r.readInSeg += len(recs) - first
		q.mu.Unlock()
		q.amu.Lock()
		if len(q.acks) == 0 {
			q.ackHead = r.seq + 1
		}
		for i := first; i < len(recs); i++ {
			r.seq++
			recs[i].Seq = r.seq
			q.acks = append(q.acks, ackEntry{pos: recs[i].Pos})
		}
		q.amu.Unlock()
		return recs, nil
	}
}

// resync returns how far to skip from a corrupt byte: to the next offset
// that may start a valid record, or the end of b.
func resync(b []byte) int {
	for i := 1; i < len(b); i++ {
		if b[i] != magic {
			continue
		}
		if _, n, need := parseFrame(b[i:]); n > 0 || need > 0 && need > len(b)-i {
			return i
		}
	}
	return len(b)
}

// window returns the file bytes from r.off to written (read as needed).
func (r *reader) window(q *Queue, s *segment, written int64) ([]byte, error) {
	if r.file == nil {
		f, err := q.fs.OpenFile(q.segPath(s.id), os.O_RDONLY, 0)
		if err != nil {
			return nil, err
		}
		r.file, r.buf, r.bufOff = f, r.buf[:0], r.off
	}
	if r.off < r.bufOff || r.off > r.bufOff+int64(len(r.buf)) {
		r.buf, r.bufOff = r.buf[:0], r.off
	}
	have := r.bufOff + int64(len(r.buf))
	if have < written {
		// Drop what was consumed, then read up to written.
		if k := r.off - r.bufOff; k > 0 {
			r.buf = r.buf[:copy(r.buf, r.buf[k:])]
			r.bufOff = r.off
		}
		want := int(written - have)
		if cap(r.buf)-len(r.buf) < want {
			nb := make([]byte, len(r.buf), len(r.buf)+max(want, 256<<10))
			copy(nb, r.buf)
			r.buf = nb
		}
		m, err := r.file.ReadAt(r.buf[len(r.buf):len(r.buf)+want], have)
		r.buf = r.buf[:len(r.buf)+m]
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	return r.buf[r.off-r.bufOff:], nil
}

func (q *Queue) segAfterLocked(s *segment) *segment {
	for _, c := range q.segs {
		if s == nil || c.id > s.id {
			return c
		}
	}
	return nil
}

// readWait is wait for ReadBatch: it lets Close take the reader meanwhile.
func (q *Queue) readWait(ctx context.Context) error {
	q.rd.mu.Unlock()
	defer q.rd.mu.Lock()
	return q.wait(ctx)
}

func (q *Queue) wait(ctx context.Context) error {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return ErrClosed
	}
	select {
	case <-q.notify:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-q.done:
		return ErrClosed
	}
}

// Ack acknowledges the record seq (delivered, or given up on for good).
// Records may be acknowledged in any order; the persisted position moves
// over the longest acknowledged prefix.
func (q *Queue) Ack(seq uint64) {
	q.amu.Lock()
	defer q.amu.Unlock()
	if seq < q.ackHead || seq >= q.ackHead+uint64(len(q.acks)) {
		return
	}
	q.acks[seq-q.ackHead].acked = true
	i := 0
	for i < len(q.acks) && q.acks[i].acked {
		i++
	}
	if i > 0 {
		q.ackPos = q.acks[i-1].pos
		q.ackChanged = true
		q.acks = q.acks[i:]
		q.ackHead += uint64(i)
		if len(q.acks) == 0 {
			q.acks = nil
		}
	}
}

// Acked is the end of the acknowledged prefix (in memory, maybe not yet
// persisted).
func (q *Queue) Acked() Pos {
	q.amu.Lock()
	defer q.amu.Unlock()
	return q.ackPos
}

// Drained reports whether every record appended so far was acknowledged
// (or dropped).
func (q *Queue) Drained() bool {
	last := q.LastPos()
	q.amu.Lock()
	defer q.amu.Unlock()
	return len(q.acks) == 0 && !q.ackPos.Less(last) || last == (Pos{})
}

// Checkpoint persists the acknowledged position and removes the segments
// it covers.
func (q *Queue) Checkpoint() error {
	// One checkpoint at a time (the queue's goroutine, Close and a caller
	// may each run one): two writers of ack.tmp would truncate each
	// other's file, and the rename of one could publish the other's
	// half-written ack, lost at a crash although Checkpoint returned nil.
	q.ckmu.Lock()
	defer q.ckmu.Unlock()
	q.amu.Lock()
	pos, changed := q.ackPos, q.ackChanged
	q.ackChanged = false
	q.amu.Unlock()
	if changed && pos != q.persisted {
		if err := q.writeAck(pos); err != nil {
			q.amu.Lock()
			q.ackChanged = true
			q.amu.Unlock()
			return err
		}
		q.persisted = pos
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var gone []*segment
	for _, s := range q.segs {
		if s.id < pos.Seg && s.sealed || s.id == pos.Seg && s.sealed && pos.Off >= s.size && s.written == s.size {
			if s != q.wseg && (s != q.rd.seg || q.rd.off >= s.size) {
				gone = append(gone, s)
			}
		}
	}
	if len(gone) == 0 {
		return nil
	}
	for _, s := range gone {
		s.removed = true
		q.removeSegLocked(s)
		if err := q.fs.Remove(q.segPath(s.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return q.fs.SyncDir(q.cfg.Dir)
}

const ackLen = 4 + 8 + 8 + 4

func encodeAck(p Pos) []byte {
	b := make([]byte, 0, ackLen)
	b = append(b, "PLQA"...)
	b = binary.LittleEndian.AppendUint64(b, p.Seg)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Off))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeAck(b []byte) (Pos, bool) {
	if len(b) != ackLen || string(b[:4]) != "PLQA" || crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:]) {
		return Pos{}, false
	}
	return Pos{binary.LittleEndian.Uint64(b[4:12]), int64(binary.LittleEndian.Uint64(b[12:20]))}, true
}

// writeAck replaces the ack file atomically and durably.
func (q *Queue) writeAck(p Pos) error {
	tmp := filepath.Join(q.cfg.Dir, "ack.tmp")
	f, err := q.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(encodeAck(p))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = q.fs.Rename(tmp, filepath.Join(q.cfg.Dir, "ack"))
	}
	if err == nil {
		err = q.fs.SyncDir(q.cfg.Dir)
	}
	return err
}
