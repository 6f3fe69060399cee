package elasticsearch

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/pipelog/pipelog/sink"
)

// Write takes a line from anywhere (sink.Sink): it validates p (one JSON
// object on one line, optionally followed by '\n'), copies it into the
// current batch and returns. The document's event.id becomes the bulk _id;
// a document without one gets a sink-minted _id, so retries never index it
// twice. A line that is not valid goes to the dead letter, and Write
// returns ErrInvalidLine.
func (s *Sink) Write(p []byte) error {
	if s.isClosed.Load() {
		return sink.ErrClosed
	}
	line := trimEOL(p)
	id, reason := scanLine(line)
	if reason != "" {
		return s.reject(line, reason)
	}
	return s.add(line, id)
}

// WriteEntry takes a line a Logger encoded (sink.EntryWriter): valid ECS
// JSON by construction, so it is not parsed again. e.ID (event.id) becomes
// the bulk _id, copied as is when it needs no JSON escaping (a Logger's
// never does); an empty one is minted. The only check is that the line is
// one {...} object on one line: anything else would break the NDJSON body,
// so it goes to the dead letter and WriteEntry returns ErrInvalidLine.
func (s *Sink) WriteEntry(e *sink.Entry) error {
	if s.isClosed.Load() {
		return sink.ErrClosed
	}
	line := trimEOL(e.Line)
	if n := len(line); n < 2 || line[0] != '{' || line[n-1] != '}' || bytes.IndexByte(line, '\n') >= 0 {
		return s.reject(line, "not one JSON object on one line")
	}
	id := e.ID
	if needsEscape(id) {
		var buf [64]byte
		id = appendEscaped(buf[:0], id)
	}
	return s.add(line, id)
}

// trimEOL removes one trailing "\n" or "\r\n".
func trimEOL(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
		if n := len(p); n > 0 && p[n-1] == '\r' {
			p = p[:n-1]
		}
	}
	return p
}

// reject counts and dead-letters a line Write or WriteEntry refused.
func (s *Sink) reject(line []byte, reason string) error {
	s.st.rejected.Add(1)
	s.deadLetterRaw(line, reason)
	return fmt.Errorf("%w: %s", ErrInvalidLine, reason)
}

// add queues one event: line (without its newline) under the bulk _id id
// (JSON-escaped; empty: minted) — in the disk queue when there is one.
func (s *Sink) add(line, id []byte) error {
	var minted [32]byte
	if len(id) == 0 {
		id = strconv.AppendUint(append(minted[:0], s.idPrefix...), s.idCounter.Add(1), 36)
	}
	if s.dq != nil && !s.dqBroken.Load() {
		if err, done := s.addDisk(line, id); done {
			return err
		}
	}
	return s.addMem(line, id, 0)
}

// addMem puts one event in the active batch. seq is its disk queue record
// (0: none); the pump's events wait for room however the sink is
// configured, and until the pump is stopped rather than the sink closed.
func (s *Sink) addMem(line, id []byte, seq uint64) error {
	need := int64(len(`{"create":{"_index":"","_id":""}}`) + len(s.index) + len(id) + len(line) + 2) // two '\n'

	s.mu.Lock()
	if s.closed && seq == 0 || s.pumpStopped {
		s.mu.Unlock()
		return sink.ErrClosed
	}
	if need > s.cfg.MaxQueueBytes {
		s.mu.Unlock()
		return s.reject(line, fmt.Sprintf("event of %d bytes exceeds MaxQueueBytes %d", need, s.cfg.MaxQueueBytes))
	}
	if s.pendingBytes+need > s.cfg.MaxQueueBytes || s.pendingEvts+1 > int64(s.cfg.MaxQueueEvents) {
		if err := s.waitForSpaceLocked(need, seq != 0); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	b := s.active
	if b == nil {
		b = getBatch()
		s.active = b
	}
	// The two lines go to the chunk on its way to the assembler; its
	// first byte is at raw offset b.rawLen-len(dst).
	dst := s.chunk
	base := uint32(b.rawLen) - uint32(len(dst))
	it := esItem{start: uint32(len(dst)), epoch: s.epoch, seq: seq}
	dst = append(dst, s.actionPre...)
	it.idStart = uint32(len(dst))
	dst = append(dst, id...)
	it.idEnd = uint32(len(dst))
	dst = append(dst, "\"}}\n"...)
	it.doc = uint32(len(dst))
	dst = append(dst, line...)
	dst = append(dst, '\n')
	it.end = uint32(len(dst))
	b.rawLen += int(it.end - it.start)
	it.start += base
	it.idStart += base
	it.idEnd += base
	it.doc += base
	it.end += base
	s.chunk = dst
	b.items = append(b.items, it)
	s.pendingBytes += need
	s.pendingEvts++
	s.st.queued.Add(1)
	if b.rawLen >= s.cfg.FlushBytes || len(b.items) >= s.cfg.FlushEvents {
		s.cutLocked()
	} else if len(dst) >= chunkSize {
		s.sendChunkLocked(false)
	}
	s.mu.Unlock()
	if seq == 0 {
		s.st.accepted.Add(1)
	}
	return nil
}

// waitForSpaceLocked blocks (s.mu held, released while waiting) until need
// bytes and one event fit, the wait times out or the sink closes; for the
// disk queue's pump, until there is room or the pump is stopped.
func (s *Sink) waitForSpaceLocked(need int64, pump bool) error {
	fits := func() bool {
		return s.pendingBytes+need <= s.cfg.MaxQueueBytes && s.pendingEvts+1 <= int64(s.cfg.MaxQueueEvents)
	}
	var timer *time.Timer
	var timeout <-chan time.Time
	closed := s.closedCh
	if pump {
		closed = s.pumpStop
	}
	if !s.cfg.BlockWhenFull && !pump {
		if s.cfg.QueueFullTimeout < 0 {
			return s.dropLocked()
		}
		timer = time.NewTimer(s.cfg.QueueFullTimeout)
		defer timer.Stop()
		timeout = timer.C
	}
	for !fits() {
		ch := s.spaceCh
		s.spaceWaiters++
		s.mu.Unlock()
		timedOut := false
		select {
		case <-ch:
		case <-timeout:
			timedOut = true
		case <-closed:
		}
		s.mu.Lock()
		s.spaceWaiters--
		if s.closed && !pump || s.pumpStopped {
			return sink.ErrClosed
		}
		if timedOut && !fits() {
			return s.dropLocked()
		}
	}
	return nil
}

// dropLocked counts a dropped event; the ticker and Close report drops to
// OnError (aggregated, so a flood of drops cannot flood the hook).
func (s *Sink) dropLocked() error {
	s.st.dropped.Add(1)
	s.dropMu.Lock()
	s.dropUnreport++
	s.dropMu.Unlock()
	return ErrQueueFull
}

// reportDrops reports drops not yet reported (called by the ticker and Close).
func (s *Sink) reportDrops() {
	s.dropMu.Lock()
	n := s.dropUnreport
	s.dropUnreport = 0
	s.dropMu.Unlock()
	if n > 0 {
		s.onError(fmt.Errorf("%w: %d event(s) dropped (queue bound %d bytes / %d events)", ErrQueueFull, n, s.cfg.MaxQueueBytes, s.cfg.MaxQueueEvents))
	}
}

// cutLocked ends the active batch: the assembler completes it and queues
// it for the workers.
func (s *Sink) cutLocked() {
	b := s.active
	if b == nil || len(b.items) == 0 {
		return
	}
	s.epochPending[s.epoch] += int64(len(b.items))
	s.sendChunkLocked(true)
	s.active = nil
}
