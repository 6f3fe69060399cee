package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"
)

// DefaultFlushInterval is how often a buffered Writer or File hands
// its pending lines on when nobody calls Flush, unless configured otherwise.
const DefaultFlushInterval = time.Second

// maxScratch bounds the scratch buffer kept between writes of lines that
// lack their trailing newline.
const maxScratch = 64 << 10

// lineWriter is the synchronous core shared by Writer and File. It
// writes whole lines only: every Write on the underlying writer carries one
// or more complete, newline-terminated lines, never part of one, so a
// concurrent reader (a tailing shipper such as Filebeat) or a rotation
// between two writes never sees a split line.
type lineWriter struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte // pending whole lines; cap(buf) is the buffer size; nil when unbuffered
	scratch []byte // unbuffered: line plus the newline it lacked
	closed  bool
	syncFn  func() error // called by Flush when set
	name    string       // a File's path, for errors; "" for a Writer
	dropped int          // lines closeLocked could not write

	stop        chan struct{} // closed by Close to stop the flusher
	flusherDone chan struct{} // closed when the flusher has returned
}

func (c *lineWriter) init(w io.Writer, bufSize int, interval time.Duration) {
	c.w = w
	if bufSize > 0 {
		c.buf = make([]byte, 0, bufSize)
		if interval > 0 {
			c.stop = make(chan struct{})
			c.flusherDone = make(chan struct{})
			go c.flusher(interval)
		}
	}
}

// flusher hands pending lines on every interval. A failed flush keeps the
// data, so the next Flush (or Write that fills the buffer) retries it and
// reports the error to a caller; the background error itself is dropped.
func (c *lineWriter) flusher(interval time.Duration) {
	defer close(c.flusherDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.mu.Lock()
			if !c.closed {
				_ = c.flushLocked()
			}
			c.mu.Unlock()
		}
	}
}

// Write writes one line. A line without its trailing newline gets one. p
// is not retained.
//
// Writer and File share this method (a File's errors name its path):
// promoted, it is reached through a Sink without a wrapper call of theirs.
func (c *lineWriter) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	c.mu.Lock()
	// Fast path: a complete line that fits in the buffer (nil when
	// unbuffered, and after Close).
	if n := len(c.buf); p[len(p)-1] == '\n' && len(p) <= cap(c.buf)-n {
		copy(c.buf[n:cap(c.buf)], p)
		c.buf = c.buf[:n+len(p)]
		c.mu.Unlock()
		return nil
	}
	err := c.writeSlow(p)
	c.mu.Unlock()
	return err
}

func (c *lineWriter) writeSlow(p []byte) error {
	if c.closed {
		return ErrClosed
	}
	if err := c.appendSlow(p); err != nil {
		return c.named(err)
	}
	return nil
}

// named puts the File's path in an I/O error.
func (c *lineWriter) named(err error) error {
	if c.name == "" {
		return err
	}
	return fmt.Errorf("sink: file %s: %w", c.name, err)
}

func (c *lineWriter) appendSlow(p []byte) error {
	nl := p[len(p)-1] == '\n'
	need := len(p)
	if !nl {
		need++
	}
	if c.buf != nil {
		if len(c.buf)+need > cap(c.buf) {
			if err := c.flushLocked(); err != nil {
				return err
			}
		}
		if need <= cap(c.buf) {
			c.buf = append(c.buf, p...)
			if !nl {
				c.buf = append(c.buf, '\n')
			}
			return nil
		}
		// Larger than the whole buffer (which is empty now): write through.
	}
	if !nl {
		c.scratch = append(append(c.scratch[:0], p...), '\n')
		p = c.scratch
		defer func() {
			if cap(c.scratch) > maxScratch {
				c.scratch = nil
			}
		}()
	}
	_, err := writeFull(c.w, p)
	return err
}

// flushLocked writes the pending lines in one Write. On failure the bytes
// not written stay buffered for the next attempt.
func (c *lineWriter) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	n, err := writeFull(c.w, c.buf)
	if n >= len(c.buf) {
		c.buf = c.buf[:0]
	} else if n > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
	}
	return err
}

// flush implements Flush: it gives up when ctx has ended (a synchronous
// write in progress cannot be interrupted, so ctx is checked before and
// after taking the lock).
func (c *lineWriter) flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.flushLocked(); err != nil {
		return err
	}
	if c.syncFn != nil {
		return c.syncFn()
	}
	return nil
}

// closeLocked flushes and marks the writer closed. It reports the bytes it
// could not deliver; they are dropped. The caller releases the destination
// and then calls stopFlusher after unlocking.
func (c *lineWriter) closeLocked() error {
	c.closed = true
	var err error
	if ferr := c.flushLocked(); ferr != nil {
		c.dropped = bytes.Count(c.buf, []byte{'\n'})
		err = fmt.Errorf("sink: %d lines (%d bytes) not delivered: %w", c.dropped, len(c.buf), ferr)
	} else if c.syncFn != nil {
		err = c.syncFn()
	}
	c.buf, c.scratch = nil, nil
	return err
}

// stopFlusher stops the background flusher, if any, and waits for it. It
// must be called without holding mu, once, after closeLocked.
func (c *lineWriter) stopFlusher() {
	if c.stop != nil {
		close(c.stop)
		<-c.flusherDone
	}
}

// writeFull does one Write and turns a short write without error into
// io.ErrShortWrite.
func writeFull(w io.Writer, p []byte) (int, error) {
	n, err := w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if n < 0 || n > len(p) {
		n = 0
	}
	return n, err
}

// Writer is a sink that writes lines to an io.Writer. Unbuffered (the zero
// WriterConfig) it makes exactly one Write call per line; buffered
// (WriterConfig.BufferSize > 0) it makes one Write per batch of whole lines.
// A mutex serialises writers, so concurrent lines never interleave.
//
// A Writer never closes the io.Writer it was given: Close flushes and stops
// accepting lines, the owner of w closes it.
type Writer struct {
	lineWriter
}

var _ Sink = (*Writer)(nil)

// WriterConfig configures NewWriter. The zero value is an unbuffered writer.
type WriterConfig struct {
	// BufferSize, when > 0, collects whole lines in a buffer of that many
	// bytes, written when full, on Flush and Close, and every
	// FlushInterval. A line longer than the buffer is written directly.
	BufferSize int
	// FlushInterval is how often a buffered Writer writes pending lines by
	// itself: 0 means DefaultFlushInterval, < 0 never (lines then wait for
	// Flush, Close or a full buffer). Unbuffered writers ignore it.
	FlushInterval time.Duration
	// Sync makes Flush and Close call w.Sync() when w has a Sync() error
	// method (an *os.File does). EINVAL and ENOTSUP, which fsync returns on
	// pipes, terminals and sockets, are ignored. Off by default: fsync on
	// every Flush is slow, and most destinations are pipes.
	Sync bool
}

// NewWriter returns a sink writing lines to w (os.Stdout, say).
func NewWriter(w io.Writer, cfg WriterConfig) *Writer {
	interval := cfg.FlushInterval
	if interval == 0 {
		interval = DefaultFlushInterval
	}
	s := &Writer{}
	if cfg.Sync {
		if sy, ok := w.(interface{ Sync() error }); ok {
			s.syncFn = func() error { return ignoreSyncUnsupported(sy.Sync()) }
		}
	}
	s.init(w, max(cfg.BufferSize, 0), interval)
	return s
}

// Flush writes the buffered lines to the writer (and syncs it with
// WithSync). It returns ctx.Err() without writing if ctx has ended.
func (s *Writer) Flush(ctx context.Context) error { return s.flush(ctx) }

// Close flushes the buffered lines and stops accepting new ones. Lines it
// could not write are reported in the error. It does not close the
// underlying writer. A second Close returns nil.
//
// The final flush is attempted even if ctx has ended: it is a local,
// synchronous write that cannot be abandoned half-way.
func (s *Writer) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	err := s.closeLocked()
	s.mu.Unlock()
	s.stopFlusher()
	return err
}

// ignoreSyncUnsupported drops the errors fsync returns for files that
// cannot be synced (pipes, terminals, sockets).
func ignoreSyncUnsupported(err error) error {
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
