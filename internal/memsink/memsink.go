// Package memsink is a sink.Sink that keeps every line in memory, for tests.
package memsink

import (
	"bytes"
	"context"
	"sync"

	"github.com/pipelog/pipelog/sink"
)

// Sink records lines. Fail, when set, makes Write return it.
type Sink struct {
	mu     sync.Mutex
	lines  [][]byte
	closed bool
	Fail   error
}

// Write copies p: the contract forbids keeping it.
func (s *Sink) Write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return sink.ErrClosed
	}
	if s.Fail != nil {
		return s.Fail
	}
	s.lines = append(s.lines, bytes.Clone(p))
	return nil
}

// Flush does nothing: lines are in memory as soon as Write returns.
func (s *Sink) Flush(context.Context) error { return nil }

// Close marks the sink closed.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Lines returns copies of the lines written so far.
func (s *Sink) Lines() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.lines))
	copy(out, s.lines)
	return out
}

// Bytes returns everything written, as one NDJSON document.
func (s *Sink) Bytes() []byte {
	return bytes.Join(s.Lines(), nil)
}
