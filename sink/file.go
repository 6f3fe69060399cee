package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// File permissions used by File. New log files (and, because rotation
// renames them, their backups and compressed backups) are 0640 before the
// process umask: owner read/write, group read (the usual group of a log
// shipper), nothing for others. New directories are 0750.
const (
	FileMode os.FileMode = 0o640
	DirMode  os.FileMode = 0o750
)

// DefaultFileBufferSize is the File buffer size when
// FileConfig.BufferSize is 0.
//
// It is large because a write(2) of whole lines ends where a line ends,
// almost never on a page boundary, and the page cache pays for the pages
// around each such boundary: measured on Linux 6.18 (ext4), lines written
// 256 KiB at a time took 10–25% more system time than 256 KiB blocks, and
// at most 9% more written 1 MiB at a time (BENCHMARKS.md, §3).
const DefaultFileBufferSize = 1 << 20

// defaultRotateSizeMB is lumberjack's size limit when only age, backup or
// compression limits are set.
const defaultRotateSizeMB = 100

// FileConfig configures NewFile. The zero value appends to the file,
// never rotates, and buffers 1 MiB flushed every second.
type FileConfig struct {
	// MaxSizeMB rotates the file before a write would make it larger than
	// this many megabytes (MiB). The current file is renamed to
	// name-<UTC timestamp>.ext and a new one is started.
	MaxSizeMB int
	// MaxAgeDays removes rotated backups older than this many days (by the
	// timestamp in their name). It does not by itself start a new file.
	MaxAgeDays int
	// MaxBackups keeps at most this many rotated backups; 0 keeps all
	// (subject to MaxAgeDays).
	MaxBackups int
	// Compress gzips rotated backups.
	Compress bool
	// LocalTime uses local time instead of UTC in backup names.
	LocalTime bool

	// BufferSize is the write buffer in bytes: 0 means
	// DefaultFileBufferSize, a negative value disables buffering (one
	// write(2) per line). With rotation it is capped at MaxSizeMB. What is
	// buffered is lost if the process dies without Close: at most
	// BufferSize bytes, and at most FlushInterval's worth of lines.
	BufferSize int
	// FlushInterval is how often buffered lines are written when nobody
	// calls Flush: 0 means DefaultFlushInterval, negative disables it.
	FlushInterval time.Duration
	// Sync makes Flush and Close fsync the file after writing.
	Sync bool

	// CheckInterval is how often, at most, a write first checks that the
	// path still names the open file (one stat and one fstat), and reopens
	// it if it was deleted or renamed away without Reopen: 0 means
	// DefaultFileCheckInterval, negative never. Lines written to a deleted
	// file before the check noticed are lost; the report says how many
	// bytes.
	CheckInterval time.Duration
	// OnError receives what the sink repaired without failing a call: a
	// torn last line terminated at open, a short write cut back, the path
	// reopened after it was deleted or renamed (see Stats for the counts).
	// Default: print to standard error. It is called with the sink's lock
	// held: it must not call the sink.
	OnError func(error)
}

// rotates reports whether the options need lumberjack. Any of the rotation
// settings switches it on; MaxSizeMB 0 then means 100 MB.
func (o FileConfig) rotates() bool {
	return o.MaxSizeMB > 0 || o.MaxAgeDays > 0 || o.MaxBackups > 0 || o.Compress
}

// File appends lines to a file, optionally rotating it by size with
// gopkg.in/natefinch/lumberjack.v2.
//
// Lines are buffered and written in batches of whole lines, so a line is
// never split across two write(2) calls nor across two rotated files, and
// a shipper tailing the file only ever sees complete, newline-terminated
// lines (as long as each line fits in the buffer; a longer line is written
// in one write(2) of its own).
//
// Without rotation options the sink writes straight to an *os.File opened
// with O_APPEND; with them it writes through a lumberjack.Logger.
//
// What the file looks like after a crash, a full disk or an operator's
// mistake is documented in file_repair.go: a torn last line is terminated at
// open, a short write is cut back to the last whole line, a deleted or
// renamed path is reopened, each counted (Stats) and reported
// (FileConfig.OnError). Every file it creates is FileMode (or tighter).
type File struct {
	lineWriter
	path string
	f    *os.File           // without rotation
	lj   *lumberjack.Logger // with rotation
	done chan struct{}      // closed by Close

	onError    func(error)
	checkEvery time.Duration
	fault      func(p []byte) (int, error) // tests: a failing file layer

	// With mu held:
	lastCheck  time.Time
	sinceCheck int64 // bytes written since the last check
	noCheck    bool  // Reopen's flush: lines before Reopen go to the old file
	torn       bool  // a fragment could not be cut: start the next write with '\n'
	ljMax      int64
	ljSize     int64       // size of lumberjack's file; -1: it opens the path on its next write
	ljFile     os.FileInfo // lumberjack's file, as last seen
	closeErr   error       // Close's result, returned again by later Closes

	st fileCounters
}

var _ Sink = (*File)(nil)

// NewFile opens (creating if needed) the file at path for appending. Missing
// directories are created with DirMode and a new file with FileMode.
func NewFile(path string, opts FileConfig) (*File, error) {
	if opts.MaxSizeMB < 0 || opts.MaxAgeDays < 0 || opts.MaxBackups < 0 {
		return nil, fmt.Errorf("sink: file %s: negative rotation limit in %+v", path, opts)
	}
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return nil, fmt.Errorf("sink: file %s: %w", path, err)
	}
	s := &File{path: path, done: make(chan struct{}), onError: opts.OnError,
		checkEvery: opts.CheckInterval, lastCheck: time.Now()}
	if s.checkEvery == 0 {
		s.checkEvery = DefaultFileCheckInterval
	}
	s.name = path
	f, err := s.openAppend()
	if err != nil {
		return nil, fmt.Errorf("sink: file %s: %w", path, err)
	}

	bufSize := opts.BufferSize
	if bufSize == 0 {
		bufSize = DefaultFileBufferSize
	}
	interval := opts.FlushInterval
	if interval == 0 {
		interval = DefaultFlushInterval
	}

	var w io.Writer = writeFile{s}
	if opts.rotates() {
		// The file now exists with FileMode (or the mode an operator gave
		// it): lumberjack appends to it and, on rotation, renames it and
		// creates the next one with the same mode, so backups keep it too.
		// Left to itself lumberjack would create the first file 0600.
		if err := s.handOver(f); err != nil {
			return nil, fmt.Errorf("sink: file %s: %w", path, err)
		}
		maxMB := opts.MaxSizeMB
		if maxMB == 0 {
			maxMB = defaultRotateSizeMB
		}
		s.lj = &lumberjack.Logger{
			Filename:   path,
			MaxSize:    maxMB,
			MaxAge:     opts.MaxAgeDays,
			MaxBackups: opts.MaxBackups,
			LocalTime:  opts.LocalTime,
			Compress:   opts.Compress,
		}
		// lumberjack refuses a single write larger than the size limit, so
		// a batch must not be larger either.
		if limit := maxMB << 20; bufSize > limit {
			bufSize = limit
		}
		s.ljMax = int64(maxMB) << 20
	} else {
		s.f = f
	}

	if opts.Sync {
		s.syncFn = s.syncLocked
	}
	s.init(w, bufSize, interval)
	return s, nil
}

// Path returns the path the sink writes to.
func (s *File) Path() string { return s.path }

// Flush writes the buffered lines to the file (the page cache; with
// FileConfig.Sync it also fsyncs). It returns ctx.Err() without writing if
// ctx has ended.
func (s *File) Flush(ctx context.Context) error { return s.wrap(s.flush(ctx)) }

// wrap names the file in an error; ErrClosed and context errors are
// returned as they are.
func (s *File) wrap(err error) error {
	if err == nil || err == ErrClosed || err == context.Canceled || err == context.DeadlineExceeded {
		return err
	}
	return s.named(err)
}

// Close flushes the buffered lines, closes the file and reports lines it
// could not write (counted in Stats and Losses as Undelivered). Every later
// Close returns the same error. The final flush is attempted even if ctx
// has ended: it is a local write that cannot be abandoned half-way.
func (s *File) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	err := s.closeLocked()
	s.st.undelivered.Add(uint64(s.dropped))
	if s.lj != nil {
		err = errors.Join(err, s.lj.Close())
	} else {
		err = errors.Join(err, s.f.Close())
	}
	close(s.done)
	s.mu.Unlock()
	s.stopFlusher()
	if err != nil {
		s.closeErr = fmt.Errorf("sink: file %s: %w", s.path, err)
	}
	return s.closeErr
}

// Reopen flushes the buffered lines and reopens the path, for external
// rotation: after logrotate (without copytruncate) renames the file away,
// Reopen starts a new file at the path, created with FileMode. Lines
// written before Reopen go to the old file, later ones to the new file.
//
// If the new file cannot be opened the sink keeps writing to the old one
// and Reopen returns the error.
func (s *File) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.noCheck = true
	flushErr := s.flushLocked()
	s.noCheck = false
	s.lastCheck, s.sinceCheck = time.Now(), 0
	if err := errors.Join(flushErr, s.reopenLocked()); err != nil {
		return fmt.Errorf("sink: file %s: reopen: %w", s.path, err)
	}
	return nil
}

// ReopenOnSignal calls Reopen each time the process receives one of sig
// (SIGHUP when none is given), until ctx ends or the sink is closed. Reopen
// errors are sent, without blocking, on the returned channel (buffer 1;
// errors arriving while it is full are dropped); it is closed when the
// watch stops.
func (s *File) ReopenOnSignal(ctx context.Context, sig ...os.Signal) <-chan error {
	if len(sig) == 0 {
		sig = []os.Signal{syscall.SIGHUP}
	}
	errc := make(chan error, 1)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig...)
	go func() {
		defer close(errc)
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.done:
				return
			case <-ch:
				if err := s.Reopen(); err != nil {
					if errors.Is(err, ErrClosed) {
						return
					}
					select {
					case errc <- err:
					default:
					}
				}
			}
		}
	}()
	return errc
}

// syncLocked fsyncs the current file. lumberjack does not expose its
// *os.File, but fsync applies to the file, not the descriptor, so a
// read-only descriptor on the same path does. Called with mu held, when no
// rotation can run.
func (s *File) syncLocked() error {
	if s.lj == nil {
		return s.f.Sync()
	}
	f, err := os.Open(s.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // nothing written since the last rotation or Reopen
		}
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
