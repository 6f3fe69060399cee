// Package pipelog is structured event logging for data pipelines: typed
// events, encoded as Elastic Common Schema NDJSON that follows the
// ecs-logging spec exactly, written to pluggable sinks.
//
//	type BadRequestReceived struct {
//		event.Base
//		Path   string `ecs:"url.path"`
//		Tenant string
//	}
//
//	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Environment: "prod",
//		Sinks: []sink.Sink{sink.Stdout()}})
//	defer log.Close(ctx)
//	pipelog.Emit(ctx, log, BadRequestReceived{Base: event.Error("rejected order"), Path: "/orders", Tenant: "acme"})
//
// Emit is a function, not a method, because it is generic: it takes the
// event by value and reads it in place, so emitting an event allocates
// nothing. A disabled level returns after one comparison, before any work.
//
// A Logger is safe for concurrent use. Emit never panics because of the
// event or a sink, and never returns sink errors into business code: they are
// counted (Stats) and passed to Config.OnError.
package pipelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/sink"
)

// Config configures a Logger. Only Service is required.
type Config struct {
	Service     string // service.name, and event.dataset unless Dataset is set
	Version     string // service.version
	Environment string // service.environment
	NodeName    string // service.node.name
	Dataset     string // event.dataset
	Name        string // log.logger
	Hostname    string // host.hostname; defaults to os.Hostname()

	// Level is the least severe level written. The zero value is LevelInfo.
	Level event.Level

	// Sinks receive every line at or above their level (see MinLevel).
	// Without sinks, the Logger writes to standard output.
	Sinks []sink.Sink

	// Caller adds log.origin.file.name, .file.line and .function (the
	// ecs-logging spec makes them opt-in: capturing them costs time).
	Caller bool
	// ThreadID adds process.thread.id, the goroutine's ID. It is costly (the
	// runtime exposes it only through a stack dump) and meant for debugging.
	ThreadID bool

	// Fields are written on every line; see With.
	Fields []Field

	// MaxStringBytes cuts longer strings (0: encode.DefaultMaxStringBytes).
	MaxStringBytes int

	// OnError receives every sink failure and encoding problem. It must not
	// emit through the same Logger. Nil: problems are printed to standard
	// error, at most one line a second.
	OnError func(error)

	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// Field is a fixed field for With and Config.Fields: an ECS field name puts
// the value there (type-checked against ECS), any other key makes it a label.
type Field = encode.Field

// ErrNoService is returned by New when Config.Service is empty.
var ErrNoService = errors.New("pipelog: Config.Service is required")

// Logger writes typed events to its sinks. Create one with New; derive ones
// with fixed fields with With.
type Logger struct {
	core *core
	enc  *encode.Encoder
}

// core is what a Logger shares with the loggers derived from it.
type core struct {
	// Read on every Emit, written almost never.
	sinks   []leveledSink
	level   atomic.Int32 // the Logger's configured level
	floor   event.Level  // the least severe level any sink accepts
	caller  bool
	thread  bool
	closed  atomic.Bool
	now     func() time.Time
	onError func(error)

	// Written on every Emit: kept off the cache lines above, which every
	// core reads, so that concurrent Emits do not invalidate them.
	_     [64]byte
	ids   idSource
	_     [64]byte
	stats counters
	_     [64]byte

	closeMu sync.Mutex
	report  reporter
}

// New returns a Logger for cfg. A Config.Fields entry that cannot be placed
// is reported in the error; the Logger is usable nonetheless, and only a
// missing Service makes it nil.
func New(cfg Config) (*Logger, error) {
	if cfg.Service == "" {
		return nil, ErrNoService
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	sinks := cfg.Sinks
	if len(sinks) == 0 {
		sinks = []sink.Sink{sink.Stdout()}
	}
	c := &core{caller: cfg.Caller, thread: cfg.ThreadID, now: cfg.Now, onError: cfg.OnError}
	if c.now == nil {
		c.now = time.Now
	}
	c.level.Store(int32(cfg.Level))
	c.floor = event.LevelError + 100
	for _, s := range sinks {
		if s == nil {
			return nil, errors.New("pipelog: Config.Sinks holds a nil sink")
		}
		ls := leveledSink{Sink: s, min: event.Level(-128)}
		if m, ok := s.(*minLevelSink); ok {
			ls = leveledSink{Sink: m.Sink, min: m.min}
		}
		c.sinks = append(c.sinks, ls)
		c.floor = min(c.floor, ls.min)
	}
	c.ids.init()
	enc, err := encode.NewEncoder(encode.Config{
		ServiceName:        cfg.Service,
		ServiceVersion:     cfg.Version,
		ServiceEnvironment: cfg.Environment,
		ServiceNodeName:    cfg.NodeName,
		Dataset:            cfg.Dataset,
		Hostname:           cfg.Hostname,
		PID:                os.Getpid(),
		LoggerName:         cfg.Name,
		MaxStringBytes:     cfg.MaxStringBytes,
		Fields:             cfg.Fields,
	})
	if err != nil {
		err = fmt.Errorf("pipelog: %w", err)
	}
	return &Logger{core: c, enc: enc}, err
}

// With returns a Logger that writes fields on every line, sharing l's sinks.
// A field that cannot be placed is left out and reported to OnError.
func (l *Logger) With(fields ...Field) *Logger {
	if l == nil {
		return nil
	}
	enc, err := l.enc.With(fields...)
	if err != nil {
		l.core.fail(fmt.Errorf("pipelog: With: %w", err))
	}
	return &Logger{core: l.core, enc: enc}
}

// Enabled reports whether an event at level would be written anywhere.
func (l *Logger) Enabled(level event.Level) bool {
	return l != nil && level >= event.Level(l.core.level.Load()) && level >= l.core.floor
}

// SetLevel changes the least severe level written, for l and every Logger
// derived from it, at run time.
func (l *Logger) SetLevel(level event.Level) { l.core.level.Store(int32(level)) }

// Flush blocks until every sink has handed on what it was given, or ctx
// ends. It returns the sinks' errors, joined.
func (l *Logger) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range l.core.sinks {
		if err := s.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close flushes and closes every sink within ctx's deadline. Events emitted
// after Close are dropped and counted. Closing twice is a no-op.
func (l *Logger) Close(ctx context.Context) error {
	c := l.core
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, s := range c.sinks {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
