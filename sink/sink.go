// Package sink holds the destinations a pipelog Logger writes to, and the
// contract every destination keeps.
//
// A sink receives complete NDJSON lines: one JSON object followed by '\n'.
// It knows bytes and levels, not events: it imports package event for
// event.Level only, never the encoder, so a new sink is a small,
// independent file.
//
// The contract every Sink keeps:
//
//   - Write(p) takes one complete line and must not retain p after it
//     returns; a sink that keeps data copies it. Lines that do not come from
//     a Logger ("foreign" lines) go through Write, and a sink that needs to
//     know something about a line (its level, its event.id) reads it from
//     the line.
//   - A sink that implements EntryWriter gets WriteEntry instead of Write
//     from a Logger: the line plus what the Logger knows of it (level, time,
//     event.id, event name), so nothing is parsed again.
//   - Flush(ctx) blocks until everything written before the call has been
//     handed on to the destination, or ctx ends.
//   - Close(ctx) flushes, releases resources and reports what could not be
//     delivered. Write after Close returns ErrClosed.
//   - All methods are safe for concurrent use.
//
// Destinations are made with NewX(…, XConfig), where the zero XConfig is a
// sensible default: NewWriter, NewFile, NewConsole, NewDeadLetterFile (the
// Elasticsearch sink lives in package sink/elasticsearch, so that a program
// that does not use it never compiles its client). Sinks compose by
// wrapping, the way zapcore cores do: Multi fans out, MinLevel filters by
// level, and both work at any depth.
//
// This package imports the standard library, package event and
// gopkg.in/natefinch/lumberjack.v2 (file rotation).
package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pipelog/pipelog/event"
)

// Sink is a destination for encoded NDJSON lines. See the package comment
// for the contract.
type Sink interface {
	Write(p []byte) error
	Flush(ctx context.Context) error
	Close(ctx context.Context) error
}

// Entry is one line and what the Logger that wrote it knows about it. An
// Entry and everything it refers to (Line, ID, the trace strings) is valid
// only during the WriteEntry call; a sink that keeps any of it copies it.
type Entry struct {
	Line  []byte      // one complete NDJSON line, ending in '\n'
	Level event.Level // log.level
	Time  time.Time   // @timestamp
	ID    []byte      // event.id: 32 lowercase hex digits, unique per event
	Name  string      // event.action: the typed event's name; "" for slog and zap lines

	// The trace context the line was encoded with, so that a sink that
	// routes or tags by it (the Kafka sink's key and headers) need not read
	// it back from the line. Traced reports that the three fields are set
	// ("" meaning absent); when it is false they are unknown and a sink
	// reads the line. TraceID is what the line's trace.id holds: the
	// trace ID, else the correlation ID. CorrelationID is the context's
	// correlation ID (the line has it as labels.correlation_id when it
	// differs from trace.id), not a label of that name the event, the
	// context's labels or the Logger's fields set.
	Traced        bool
	TraceID       string // trace.id
	SpanID        string // span.id
	CorrelationID string
}

// EntryWriter is a Sink that takes entries: a Logger calls WriteEntry
// instead of Write, so the sink need not parse the line for its level, time
// or event.id. Write stays for foreign lines.
type EntryWriter interface {
	Sink
	WriteEntry(e *Entry) error
}

// Leveled is a Sink that takes only lines at or above a level (MinLevel,
// and Multi when every member is Leveled). A Logger that writes only to
// such sinks skips events below all their levels before encoding them.
type Leveled interface {
	Sink
	Level() event.Level
}

// LevelAll is the Level of a sink that takes every level.
const LevelAll event.Level = -128

// LevelOf returns the least severe level s takes: s.Level() for a Leveled
// sink, LevelAll otherwise.
func LevelOf(s Sink) event.Level {
	if l, ok := s.(Leveled); ok {
		return l.Level()
	}
	return LevelAll
}

// WriteTo hands e to s: WriteEntry when s is an EntryWriter, Write of the
// line otherwise. A Leveled s below its level is not called.
func WriteTo(s Sink, e *Entry) error {
	if l, ok := s.(Leveled); ok && e.Level < l.Level() {
		return nil
	}
	if ew, ok := s.(EntryWriter); ok {
		return ew.WriteEntry(e)
	}
	return s.Write(e.Line)
}

// ErrClosed is returned by Write and Flush on a sink that was closed, and
// reported by a Logger for events emitted after its Close. A second Close
// returns nil.
var ErrClosed = errors.New("sink: closed")

// WriteError is what a Logger reports (Config.OnError) when a sink's Write
// fails or panics: which sink, and why.
type WriteError struct {
	Sink Sink
	Err  error
}

func (e *WriteError) Error() string { return fmt.Sprintf("sink: %T: %v", e.Sink, e.Err) }
func (e *WriteError) Unwrap() error { return e.Err }
