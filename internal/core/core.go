// Package core is the machinery behind pipelog.Logger, shared by the root
// package and the adapter packages (pipelogslog, pipelogzap): the sinks and
// their levels, the Logger's level, event IDs, the clock, context and
// caller gathering, the write path and error reporting.
//
// A Core is shared by a root Logger and every Logger derived from it (With);
// what differs between those is their *encode.Fixed. Everything here is safe
// for concurrent use. It imports the encoder, logctx, sink and event.
package core

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/sink"
)

// Config is what New needs.
type Config struct {
	Sinks   []sink.Sink
	Level   event.Level
	Caller  bool // capture log.origin.* for typed events
	Thread  bool // capture process.thread.id
	Now     func() time.Time
	OnError func(error)
	Encoder *encode.Encoder
}

// Core is what a Logger shares with the Loggers derived from it.
type Core struct {
	// Read on every Emit, written almost never.
	sinks   []sinkRef
	level   atomic.Int32 // the Logger's configured level
	floor   event.Level  // the least severe level any sink takes
	Caller  bool
	Thread  bool
	closed  atomic.Bool
	now     func() time.Time
	onError func(error)
	Enc     *encode.Encoder
	enrich  []*enricher // nil: none (enrich.go)
	sampler *sampler    // nil: sampling off (sample.go)

	// Written on every Emit: kept off the cache lines above, which every
	// Emit reads, so that concurrent Emits do not invalidate them.
	_     [64]byte
	ids   idSource
	_     [64]byte
	stats counters
	_     [64]byte

	closeMu  sync.Mutex
	closeErr error // what Close returned: it returns it every time
	report   reporter

	extra       extraCounters
	beforeClose []func() // lifecycle.go
}

type sinkRef struct {
	s   sink.Sink
	ew  sink.EntryWriter // s, when it takes entries
	min event.Level      // sink.LevelOf(s)
}

// ErrNilSink is returned by New for a nil sink, including a typed nil (the
// *sink.File of a failed sink.NewFile, say).
var ErrNilSink = errors.New("a sink is nil")

// New returns a Core writing to cfg.Sinks (at least one).
func New(cfg Config) (*Core, error) {
	c := &Core{Caller: cfg.Caller, Thread: cfg.Thread, now: cfg.Now, onError: cfg.OnError, Enc: cfg.Encoder}
	if c.now == nil {
		c.now = time.Now
	}
	c.level.Store(int32(cfg.Level))
	c.floor = 127
	for i, s := range cfg.Sinks {
		if isNil(s) {
			return nil, fmt.Errorf("Config.Sinks[%d] (%T): %w", i, s, ErrNilSink)
		}
		r := sinkRef{s: s, min: sink.LevelOf(s)}
		r.ew, _ = s.(sink.EntryWriter)
		c.sinks = append(c.sinks, r)
		c.floor = min(c.floor, r.min)
	}
	c.ids.init()
	return c, nil
}

// isNil reports a nil interface or an interface holding a nil pointer, map,
// slice, func or channel: a sink that would panic on its first Write.
func isNil(s sink.Sink) bool {
	if s == nil {
		return true
	}
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// Enabled reports whether an event at level would be written anywhere.
func (c *Core) Enabled(level event.Level) bool {
	return level >= event.Level(c.level.Load()) && level >= c.floor
}

// Level is the least severe level written.
func (c *Core) Level() event.Level { return event.Level(c.level.Load()) }

// SetLevel changes the least severe level written.
func (c *Core) SetLevel(level event.Level) { c.level.Store(int32(level)) }

// Now reads the Core's clock.
func (c *Core) Now() time.Time { return c.now() }

// Flush blocks until every sink has handed on what it was given, or ctx
// ends. It returns the sinks' errors, joined.
func (c *Core) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range c.sinks {
		if err := s.s.Flush(ctx); err != nil {
			errs = append(errs, &sink.WriteError{Sink: s.s, Err: err})
		}
	}
	return errors.Join(errs...)
}

// Close flushes and closes every sink within ctx's deadline. Events emitted
// later are dropped, counted and reported. Every call returns what the first
// one did: the sinks' errors and, when events were not delivered, a
// *sink.LossError.
func (c *Core) Close(ctx context.Context) error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	c.runBeforeClose()
	if c.closed.Swap(true) {
		return c.closeErr
	}
	var errs []error
	for _, s := range c.sinks {
		if err := s.s.Close(ctx); err != nil {
			errs = append(errs, &sink.WriteError{Sink: s.s, Err: err})
		}
	}
	if lost := c.Losses(); lost.Total() > 0 {
		errs = append(errs, &sink.LossError{Losses: lost})
	}
	c.closeErr = errors.Join(errs...)
	return c.closeErr
}

// Losses are the events not delivered since New: what the sinks report
// (sink.LossesOf), the events every sink refused (as Undelivered) and
// those emitted after Close (as Dropped).
func (c *Core) Losses() sink.Losses {
	var l sink.Losses
	for _, s := range c.sinks {
		l.Add(sink.LossesOf(s.s))
	}
	l.Undelivered += c.stats.failed.Load()
	l.Dropped += c.stats.dropped.Load()
	return l
}

// Closed reports whether Close was called.
func (c *Core) Closed() bool { return c.closed.Load() }

// Handle is a Logger as this module's packages see it: the shared Core and
// the Logger's own fixed fields.
type Handle struct {
	C     *Core
	Fixed *encode.Fixed
}

// LoggerHandle returns the Handle of a *pipelog.Logger, or nil for a nil
// one. Package pipelog sets it; the adapter packages call it, so that a
// Logger's machinery is theirs to use without being part of its API.
var LoggerHandle func(logger any) *Handle
