package sink

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// DeadLetterFile is a Sink that appends lines to an NDJSON file, created
// with mode 0640 on the first Write (so a process that never dead-letters
// never creates the file). It is the default dead letter of Elasticsearch.
// The first Write prints the file's absolute path to standard error, once,
// so that whoever runs the program learns where undelivered events are.
type DeadLetterFile struct {
	path   string
	notice io.Writer // where the first Write announces the path (tests)

	mu     sync.Mutex
	f      *os.File
	closed bool
}

// NewDeadLetterFile returns a dead-letter sink writing to path. Nothing is
// opened until the first Write.
func NewDeadLetterFile(path string) *DeadLetterFile {
	return &DeadLetterFile{path: path, notice: os.Stderr}
}

// DeadLetterOr returns dl, or when it is nil a DeadLetterFile at path (at
// DefaultDeadLetterPath when path is empty) and own = true: the sinks'
// rule for their dead letter, whose Close is then theirs to call.
func DeadLetterOr(dl Sink, path string) (_ Sink, own bool) {
	if dl != nil {
		return dl, false
	}
	if path == "" {
		path = DefaultDeadLetterPath()
	}
	return NewDeadLetterFile(path), true
}

// ReportOr returns onError, or when it is nil a function that prints the
// error on standard error: the sinks' default for their OnError.
func ReportOr(onError func(error)) func(error) {
	if onError != nil {
		return onError
	}
	return func(err error) { fmt.Fprintln(os.Stderr, "pipelog:", err) }
}

// StateDirEnv names the environment variable that sets the directory for
// what must outlive the process (the default dead letter).
const StateDirEnv = "PIPELOG_STATE_DIR"

// DefaultDeadLetterPath is the file used when no dead letter is configured:
// "<program>.deadletter.ndjson" in the state directory, which is
// $PIPELOG_STATE_DIR when set and the working directory otherwise, as an
// absolute path. Never beside the executable: under `go run` that is a
// temporary directory deleted at exit, and an installed program's
// directory is usually read-only.
func DefaultDeadLetterPath() string {
	name := "pipelog"
	if exe, err := os.Executable(); err == nil && exe != "" {
		name = strings.TrimSuffix(filepath.Base(exe), ".exe")
	}
	dir := os.Getenv(StateDirEnv)
	if dir == "" {
		dir = "."
	}
	p := filepath.Join(dir, name+".deadletter.ndjson")
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// Path is the file the sink appends to.
func (d *DeadLetterFile) Path() string { return d.path }

// Write appends p (one NDJSON line) to the file.
func (d *DeadLetterFile) Write(p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if d.f == nil {
		if err := os.MkdirAll(filepath.Dir(d.path), DirMode); err != nil {
			return fmt.Errorf("sink: dead letter: %w", err)
		}
		f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
		if err != nil {
			return fmt.Errorf("sink: dead letter: %w", err)
		}
		d.f = f
		if d.notice != nil {
			where := d.path
			if abs, err := filepath.Abs(where); err == nil {
				where = abs
			}
			fmt.Fprintf(d.notice, "pipelog: dead letter: writing events that could not be delivered to %s\n", where)
		}
	}
	if _, err := d.f.Write(p); err != nil {
		return fmt.Errorf("sink: dead letter: %w", err)
	}
	return nil
}

// Flush syncs the file to stable storage.
func (d *DeadLetterFile) Flush(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if d.f == nil {
		return nil
	}
	return d.f.Sync()
}

// Close syncs and closes the file. A second Close returns nil.
func (d *DeadLetterFile) Close(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.f == nil {
		return nil
	}
	err := d.f.Sync()
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	return err
}
