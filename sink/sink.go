// Package sink holds the destinations a pipelog Logger writes to.
//
// A sink knows bytes, not events: it receives complete NDJSON lines (one JSON
// object followed by '\n') and never imports the event or ecs packages, so a
// new sink is a small, independent file.
//
// The contract every Sink keeps:
//
//   - Write(p) takes one complete line and must not retain p after it
//     returns; a sink that keeps data copies it.
//   - Flush(ctx) blocks until everything written before the call has been
//     handed on to the destination, or ctx ends.
//   - Close(ctx) flushes, releases resources and reports what could not be
//     delivered. Write after Close returns ErrClosed.
//   - All methods are safe for concurrent use.
//
// Sinks compose by wrapping (Multi), the way zapcore cores do.
package sink

import (
	"context"
	"errors"
)

// Sink is a destination for encoded NDJSON lines. See the package comment
// for the contract.
type Sink interface {
	Write(p []byte) error
	Flush(ctx context.Context) error
	Close(ctx context.Context) error
}

// ErrClosed is returned by Write and Flush on a sink that was closed. A second
// Close returns nil.
var ErrClosed = errors.New("sink: closed")
