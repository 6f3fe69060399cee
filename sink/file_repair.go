package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// This file holds what keeps a File's output a sequence of whole lines
// whatever happens underneath it: a torn last line left by a crash, a short
// write (a full disk), the file deleted or renamed away without Reopen, and
// files lumberjack creates with a mode other than FileMode.
//
// Cut or terminate? A torn last line found at open is terminated (a '\n' is
// appended), not cut. A shipper tailing the file may already have read the
// fragment into its line buffer; if the fragment were cut and new lines
// written where it was, that shipper would resume reading past the cut, in
// the middle of a new line, and lose it. Terminated, the fragment becomes one
// invalid line (Filebeat's ndjson parser with add_error_key ships it with
// error.message) and every later line is intact. The fragment's event was
// lost by the crash either way.
//
// A short write is the opposite case: the fragment was written by this
// process a moment ago, nobody can have read it as a line (it has no
// newline), and the rest of it is still in the buffer, to be written again.
// So it is cut: the file is truncated back to the end of the last whole line
// and the line is retried whole. If the truncation fails too, the next write
// starts with a '\n' (the terminate rule above).

// DefaultFileCheckInterval is how often, at most, a File compares its path
// with the file it has open when FileConfig.CheckInterval is 0.
const DefaultFileCheckInterval = 100 * time.Millisecond

// FileStats are a File's repair counters since NewFile.
type FileStats struct {
	// TornLines are incomplete last lines found when opening a file (a
	// crash mid-write), terminated with a newline.
	TornLines uint64 `json:"torn_lines"`
	// ShortWrites are writes that stopped part-way through a line (a full
	// disk, say); each fragment was cut off again (or, when that failed,
	// terminated before the next line).
	ShortWrites uint64 `json:"short_writes"`
	// Reopens are times the sink found its path deleted, renamed away or
	// naming another file, and reopened it (not counting Reopen calls).
	Reopens uint64 `json:"reopens"`
	// Undelivered are lines that Close could not write and dropped.
	Undelivered uint64 `json:"undelivered"`
}

type fileCounters struct {
	torn, short, reopens, undelivered atomic.Uint64
}

// Stats returns the sink's repair counters.
func (s *File) Stats() FileStats {
	return FileStats{TornLines: s.st.torn.Load(), ShortWrites: s.st.short.Load(),
		Reopens: s.st.reopens.Load(), Undelivered: s.st.undelivered.Load()}
}

// Losses reports the lines Close dropped (it could not write them).
func (s *File) Losses() Losses { return Losses{Undelivered: s.st.undelivered.Load()} }

// openAppend opens path for appending, creating it with FileMode, and
// terminates a torn last line. It opens read-write when it may (to read the
// last byte); a file this process may only write is opened write-only and
// not checked.
func (s *File) openAppend() (*os.File, error) {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, FileMode)
	if errors.Is(err, fs.ErrPermission) {
		return os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
	}
	if err != nil {
		return nil, err
	}
	if err := s.terminateTorn(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// terminateTorn appends a newline to f when its last byte is not one.
func (s *File) terminateTorn(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return fmt.Errorf("reading the last byte: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("terminating an incomplete last line: %w", err)
	}
	s.st.torn.Add(1)
	s.report(fmt.Errorf("sink: file %s: the last line was incomplete (the writer died mid-write?); terminated it with a newline so that the next line stays valid JSON", s.path))
	return nil
}

// report hands err to FileConfig.OnError (standard error by default).
func (s *File) report(err error) { ReportOr(s.onError)(err) }

// writeFile is the io.Writer the line writer writes batches of whole lines
// to (with mu held): the open file, or lumberjack. It keeps the output made
// of whole lines when the write stops part-way.
type writeFile struct{ s *File }

func (w writeFile) Write(p []byte) (int, error) {
	s := w.s
	s.checkPath()
	if s.torn {
		if _, err := s.rawWrite([]byte{'\n'}); err != nil {
			return 0, err
		}
		s.torn = false
	}
	n, err := s.rawWrite(p)
	if n < 0 || n > len(p) {
		n = 0
	}
	s.sinceCheck += int64(n)
	if err != nil && n > 0 && p[n-1] != '\n' {
		n = s.cutFragment(p, n, err)
	}
	return n, err
}

// rawWrite writes p to the current file (through the test fault, if any).
func (s *File) rawWrite(p []byte) (int, error) {
	if s.fault != nil {
		if limit, err := s.fault(p); err != nil {
			n, werr := s.write(p[:min(max(limit, 0), len(p))])
			return n, errors.Join(err, werr)
		}
	}
	return s.write(p)
}

func (s *File) write(p []byte) (int, error) {
	if s.lj == nil {
		return s.f.Write(p)
	}
	return s.ljWrite(p)
}

// cutFragment removes the part of a line that a failed write left at the
// end of the file, and returns how many bytes of p are in the file as whole
// lines (the caller keeps the rest to write again).
func (s *File) cutFragment(p []byte, n int, cause error) int {
	whole := bytes.LastIndexByte(p[:n], '\n') + 1
	frag := int64(n - whole)
	s.st.short.Add(1)
	var err error
	if s.lj == nil {
		var fi os.FileInfo
		if fi, err = s.f.Stat(); err == nil {
			err = s.f.Truncate(fi.Size() - frag)
		}
	} else {
		var fi os.FileInfo
		if fi, err = os.Stat(s.path); err == nil {
			err = os.Truncate(s.path, fi.Size()-frag)
		}
	}
	if err != nil {
		s.torn = true
		s.report(fmt.Errorf("sink: file %s: a write stopped %d bytes into a line (%v) and the fragment could not be cut (%v): the next line starts on a new line", s.path, frag, cause, err))
		return whole
	}
	s.report(fmt.Errorf("sink: file %s: a write stopped %d bytes into a line (%v); cut the fragment, the line stays buffered to be written whole", s.path, frag, cause))
	return whole
}

// checkPath reopens the path when it no longer names the open file
// (deleted, or renamed away without Reopen), at most every CheckInterval.
// Bytes written to the old file since the previous check are in that file:
// lost if it was deleted, in the renamed file otherwise.
func (s *File) checkPath() {
	if s.checkEvery < 0 || s.noCheck {
		return
	}
	now := time.Now()
	if now.Sub(s.lastCheck) < s.checkEvery {
		return
	}
	s.lastCheck = now
	var cur os.FileInfo
	if s.lj == nil {
		cur, _ = s.f.Stat()
	} else {
		cur = s.ljFile
	}
	if cur == nil {
		return // lumberjack has not opened the file yet
	}
	pfi, perr := os.Stat(s.path)
	if perr == nil && os.SameFile(pfi, cur) {
		s.sinceCheck = 0
		return
	}
	what := "names another file"
	if errors.Is(perr, fs.ErrNotExist) {
		what = "is gone (deleted, or renamed away without Reopen)"
	}
	since := s.sinceCheck
	s.sinceCheck = 0
	if err := s.reopenLocked(); err != nil {
		s.report(fmt.Errorf("sink: file %s: the path %s and reopening it failed, still writing to the old file: %w", s.path, what, err))
		return
	}
	s.st.reopens.Add(1)
	s.report(fmt.Errorf("sink: file %s: the path %s; reopened it (%d bytes written since the check before, at most %v ago, went to the old file)", s.path, what, since, s.checkEvery))
}

// reopenLocked starts writing to a file at the path (creating it with
// FileMode). With mu held.
func (s *File) reopenLocked() error {
	if err := os.MkdirAll(filepath.Dir(s.path), DirMode); err != nil {
		return err
	}
	nf, err := s.openAppend()
	if err != nil {
		return err
	}
	if s.lj != nil {
		// The file exists with FileMode; lumberjack opens it on the next
		// write.
		return errors.Join(s.handOver(nf), s.lj.Close())
	}
	old := s.f
	s.f = nf
	return old.Close()
}

// handOver closes f, opened at the path, for lumberjack to open on its
// next write, and remembers its identity and mode.
func (s *File) handOver(f *os.File) error {
	s.ljSize = -1
	fi, err := f.Stat()
	s.ljFile = fi
	return errors.Join(err, f.Close())
}

// ljWrite writes through lumberjack and keeps track of the file it writes
// to, which lumberjack does not expose: its size (to know when lumberjack
// rotates, which it does before a write that would pass MaxSize) and its
// identity (for checkPath). When lumberjack created a new file, its mode is
// set to FileMode (or the previous file's mode, if that was tighter):
// lumberjack copies the previous file's mode, and creates a file it finds
// missing 0600, which a shipper in the file's group cannot read.
func (s *File) ljWrite(p []byte) (int, error) {
	opens := s.ljSize < 0 || s.ljSize+int64(len(p)) > s.ljMax
	n, err := s.lj.Write(p)
	if !opens {
		s.ljSize += int64(n)
		return n, err
	}
	prev := s.ljFile
	fi, serr := os.Stat(s.path)
	if serr != nil {
		s.ljSize = -1
		return n, err
	}
	s.ljSize = fi.Size()
	if prev != nil && !os.SameFile(prev, fi) {
		want := FileMode & prev.Mode().Perm()
		if fi.Mode().Perm() != want {
			if cerr := os.Chmod(s.path, want); cerr != nil {
				s.report(fmt.Errorf("sink: file %s: setting mode %v on the new file: %w", s.path, want, cerr))
			} else if nfi, serr := os.Stat(s.path); serr == nil {
				fi = nfi
			}
		}
	}
	s.ljFile = fi
	return n, err
}
