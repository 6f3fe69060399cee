package sink

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// DeadLetterFile is a Sink that appends lines to an NDJSON file, created
// with mode 0640 on the first Write (so a process that never dead-letters
// never creates the file). It is the default dead letter of Elasticsearch.
type DeadLetterFile struct {
	path string

	mu     sync.Mutex
	f      *os.File
	closed bool
}

// NewDeadLetterFile returns a dead-letter sink writing to path. Nothing is
// opened until the first Write.
func NewDeadLetterFile(path string) *DeadLetterFile {
	return &DeadLetterFile{path: path}
}

// DefaultDeadLetterPath is the file used when no dead letter is configured:
// "<executable>.deadletter.ndjson" beside the running executable (or in the
// working directory when the executable's path is unknown).
func DefaultDeadLetterPath() string {
	exe, err := os.Executable()
	if err != nil || exe == "" {
		return "pipelog.deadletter.ndjson"
	}
	return filepath.Join(filepath.Dir(exe), filepath.Base(exe)+".deadletter.ndjson")
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
		f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("sink: dead letter: %w", err)
		}
		d.f = f
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
