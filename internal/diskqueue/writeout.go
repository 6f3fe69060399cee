package diskqueue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
)

// Writing out: what Append left pending reaches the segment files, by the
// committer goroutine (SyncBatch), by a leader appender (Manual), or by
// WriteOut and Sync, and the appenders waiting on it are woken.

// leadLocked waits until c is durable, writing and fsyncing itself when no
// one else is (Manual mode: the leader takes everything appended so far).
func (q *Queue) leadLocked(c *commit) error {
	for {
		select {
		case <-c.done:
			return c.err
		default:
		}
		if q.ioErr != nil {
			return q.ioErr
		}
		if q.ioBusy {
			q.ioCond.Wait()
			continue
		}
		q.writeOutLocked(true)
	}
}

// committer is the goroutine that makes SyncBatch groups durable (not
// Manual): while a group waits, it writes and fsyncs everything pending;
// the appenders arriving meanwhile form the next group, taken as soon as
// this fsync returns.
func (q *Queue) committer() {
	defer q.wg.Done()
	for {
		select {
		case <-q.done:
			return
		case <-q.kick:
		}
		q.mu.Lock()
		for q.cur != nil {
			if q.ioBusy {
				q.ioCond.Wait()
				continue
			}
			q.writeOutLocked(true)
			// Let the appenders just woken append again before the
			// next group is taken: the group is then most of the
			// writers, not the half that arrived during the fsync.
			q.mu.Unlock()
			runtime.Gosched()
			q.mu.Lock()
		}
		q.mu.Unlock()
	}
}

// writeOutLocked writes everything pending (q.mu held, released during the
// I/O), fsyncing the files written when sync is set.
func (q *Queue) writeOutLocked(sync bool) {
	q.ioBusy = true
	chunks := q.pend
	q.pend, q.pendBytes = nil, 0
	var c *commit
	if sync {
		// Records written by an earlier write-out without fsync belong
		// to cur as well: this fsync covers them (same or earlier file).
		c, q.cur = q.cur, nil
	}
	q.mu.Unlock()
	written, recs, err := q.writeChunks(chunks, sync)
	q.mu.Lock()
	for i, c := range chunks {
		c.seg.written += written[i]
		if cap(c.data) <= 2*pendMax && len(q.free) < 4 {
			q.free = append(q.free, c.data[:0]) // reused: no regrowth per write-out
		}
	}
	if err != nil {
		if q.ioErr == nil {
			q.ioErr = fmt.Errorf("diskqueue: %w", err)
		}
	} else if sync {
		q.st.fsyncs++
		q.st.fsyncRecords += int64(recs)
	}
	if q.ioErr != nil && q.cur != nil {
		// Broken: no later write-out takes the group still forming.
		q.cur.err = q.ioErr
		close(q.cur.done)
		q.cur = nil
	}
	if c != nil {
		c.err = q.ioErr
		close(c.done)
	}
	q.ioBusy = false
	q.ioCond.Broadcast()
	q.spaceCond.Broadcast()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// writeChunks writes the chunks to their segments (creating each new one
// and fsyncing the directory), then fsyncs the last file if sync. Only the
// goroutine that set ioBusy calls it.
func (q *Queue) writeChunks(chunks []pendChunk, sync bool) (written []int64, records int, err error) {
	written = make([]int64, len(chunks))
	for i, c := range chunks {
		if q.wseg != c.seg {
			if q.wfile != nil {
				// Before the next segment: data of the previous one
				// must not be less durable than what follows it.
				if sync || q.cfg.Sync != SyncNone {
					if err = q.wfile.Sync(); err != nil {
						return written, records, err
					}
				}
				if !sync && q.cfg.Sync == SyncNone {
					q.dirty = append(q.dirty, q.wseg.id)
				}
				if err = q.wfile.Close(); err != nil {
					return written, records, err
				}
				q.wfile = nil
				q.setWseg(nil)
			}
			f, err := q.fs.OpenFile(q.segPath(c.seg.id), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
			if err != nil {
				return written, records, err
			}
			q.wfile = f
			q.setWseg(c.seg)
			if err = q.fs.SyncDir(q.cfg.Dir); err != nil {
				return written, records, err
			}
		}
		if _, err = q.wfile.Write(c.data); err != nil {
			return written, records, err
		}
		written[i] = int64(len(c.data))
		records += countFrames(c.data)
	}
	if !sync {
		return written, records, nil
	}
	// Segments written and closed without an fsync (SyncNone) first.
	for _, id := range q.dirty {
		f, err := q.fs.OpenFile(q.segPath(id), os.O_WRONLY|os.O_APPEND, 0o640)
		if errors.Is(err, os.ErrNotExist) {
			continue // acknowledged and removed meanwhile
		}
		if err == nil {
			err = f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return written, records, err
		}
	}
	q.dirty = q.dirty[:0]
	if q.wfile != nil {
		err = q.wfile.Sync()
	}
	return written, records, err
}

func (q *Queue) setWseg(s *segment) {
	q.mu.Lock()
	q.wseg = s
	q.mu.Unlock()
}

func countFrames(b []byte) int {
	n := 0
	for len(b) > 0 {
		if len(b) < headerLen {
			break
		}
		b = b[headerLen+int(binary.LittleEndian.Uint32(b[1:5])):] // frames we built
		n++
	}
	return n
}

// WriteOut writes what is pending, without fsync (Manual mode and the
// background goroutine).
func (q *Queue) WriteOut() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.ioBusy {
		q.ioCond.Wait()
	}
	if q.ioErr == nil && len(q.pend) > 0 {
		q.writeOutLocked(false)
	}
	return q.ioErr
}

// Sync writes what is pending and fsyncs it: every record appended before
// the call is durable when it returns nil.
func (q *Queue) Sync() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.ioBusy {
		q.ioCond.Wait()
	}
	if q.ioErr == nil {
		q.writeOutLocked(true)
	}
	return q.ioErr
}
