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
//	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Environment: "prod"})
//	if err != nil {
//		return err
//	}
//	defer log.Close(ctx)
//	pipelog.Emit(ctx, log, BadRequestReceived{Base: event.Error("rejected order"), Path: "/orders", Tenant: "acme"})
//
// Emit is a function, not a method, because it is generic: it takes the
// event by value (pass the struct, not a pointer to it; a pointer works too,
// and a nil one writes the type's zero value) and reads it in place, so
// emitting an event allocates nothing. A disabled level returns after one
// type lookup and one comparison, before any work.
//
// A Logger is safe for concurrent use, and so is a nil *Logger, which
// discards everything. Emit never panics because of the event or a sink,
// and never returns sink errors into business code: they are counted
// (Stats) and passed to Config.OnError.
//
// The root package holds the Logger, Emit, RunJob (batch jobs) and the HTTP
// middleware and client transport. It imports event, ecs, logctx, sink and
// the module's internal encoder; the Elasticsearch sink
// (sink/elasticsearch) and the slog and zap adapters (pipelogslog,
// pipelogzap) are packages of their own, so a program pays only for what it
// imports.
package pipelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/sink"
)

// Config configures a Logger. Only Service is required.
type Config struct {
	Service     string // service.name, and event.dataset unless Dataset is set
	Version     string // service.version
	Environment string // service.environment
	NodeName    string // service.node.name
	Dataset     string // event.dataset; sanitised like a data stream's dataset ("orders-etl" → "orders_etl")
	Name        string // log.logger
	Hostname    string // host.hostname; defaults to os.Hostname()

	// DataStream, when set, adds data_stream.type/dataset/namespace to
	// every line: set it when the lines go to that Elasticsearch data
	// stream (see DataStream).
	DataStream *DataStream

	// Level is the least severe level written. The zero value is LevelInfo.
	Level event.Level

	// Sinks receive every line at or above their level (see sink.MinLevel).
	// Without sinks, the Logger writes to standard output. A nil sink, or a
	// nil pointer in a Sink interface, makes New fail.
	Sinks []sink.Sink

	// Caller adds log.origin.file.name, .file.line and .function (the
	// ecs-logging spec makes them opt-in: capturing them costs time).
	Caller bool
	// ThreadID adds process.thread.id, the goroutine's ID. It is costly (the
	// runtime exposes it only through a stack dump) and meant for debugging.
	ThreadID bool

	// Fields are written on every line; see With.
	Fields []Field

	// MaxStringBytes cuts longer strings, counted in bytes before escaping,
	// with a marker saying how much was cut (0: DefaultMaxStringBytes,
	// < 0: never).
	MaxStringBytes int
	// MaxLineBytes bounds a whole line (0: DefaultMaxLineBytes, < 0: never;
	// at least 4096). A longer line is written again with its strings,
	// arrays and objects cut; if that is still too long, with only its base
	// fields. Pipelog.encode_errors says which.
	MaxLineBytes int

	// OnError receives every sink failure and encoding problem. It must not
	// emit through the same Logger. Nil: problems are printed to standard
	// error, at most one line a second.
	OnError func(error)

	// Now replaces time.Now, for tests (sampling intervals follow it too).
	Now func() time.Time

	// Enrichers add labels from the context to every line (see Enricher).
	Enrichers []Enricher
	// Sampling, when set, samples typed events per type and level (see
	// Sampling). Nil: every event is written.
	Sampling *Sampling
	// StatsInterval, when positive, makes the Logger write its own Stats
	// and its sinks' summed sink.Losses as an event.LoggerStats line (level
	// info) that often, from a goroutine that Close stops, and once more at
	// Close, before the sinks close.
	StatsInterval time.Duration
}

// Field is a fixed field for With and Config.Fields. An ECS field name puts
// the value there (type-checked against ECS: string, bool, integer and float
// types, time.Time, time.Duration, []string); any other key makes it a
// label (labels.<key>, a string). A later field replaces an earlier one of
// the same key.
type Field struct {
	Key   string
	Value any
}

// ErrNoService is returned by New when Config.Service is empty.
var ErrNoService = errors.New("pipelog: Config.Service is required")

// Logger writes typed events to its sinks. Create one with New; derive
// loggers with more fixed fields with With. A nil *Logger is valid and
// discards everything.
type Logger struct {
	h core.Handle
}

func init() {
	core.LoggerHandle = func(l any) *core.Handle {
		if lg, _ := l.(*Logger); lg != nil {
			return &lg.h
		}
		return nil
	}
}

// New returns a Logger for cfg. A Config.Fields entry that cannot be placed
// is reported in the error; the Logger is usable nonetheless. A missing
// Service or a nil sink makes it nil.
func New(cfg Config) (*Logger, error) {
	if cfg.Service == "" {
		return nil, ErrNoService
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	sinks := cfg.Sinks
	if len(sinks) == 0 {
		sinks = []sink.Sink{sink.NewWriter(os.Stdout, sink.WriterConfig{})}
	}
	dsFields, err := dataStreamFields(&cfg, sinks)
	if err != nil {
		return nil, fmt.Errorf("pipelog: %w", err)
	}
	enc := encode.NewEncoder(encode.Config{
		ServiceName:        cfg.Service,
		ServiceVersion:     cfg.Version,
		ServiceEnvironment: cfg.Environment,
		ServiceNodeName:    cfg.NodeName,
		Dataset:            eventDataset(&cfg),
		Hostname:           cfg.Hostname,
		PID:                os.Getpid(),
		LoggerName:         cfg.Name,
		MaxStringBytes:     cfg.MaxStringBytes,
		MaxLineBytes:       cfg.MaxLineBytes,
	})
	c, err := core.New(core.Config{Sinks: sinks, Level: cfg.Level, Caller: cfg.Caller, Thread: cfg.ThreadID,
		Now: cfg.Now, OnError: cfg.OnError, Encoder: enc})
	if err != nil {
		return nil, fmt.Errorf("pipelog: %w", err)
	}
	fx, err := enc.Fix(nil, encodeFields(dsFields, cfg.Fields))
	if err != nil {
		err = fmt.Errorf("pipelog: Config.Fields: %w", err)
	}
	l := &Logger{h: core.Handle{C: c, Fixed: fx}}
	if aerr := l.around(cfg); aerr != nil {
		return nil, aerr
	}
	return l, err
}

// encodeFields converts fields into dst (which may be a caller's small
// buffer: Fix only reads what it is given).
func encodeFields(dst []encode.Field, fields []Field) []encode.Field {
	for _, f := range fields {
		dst = append(dst, encode.Field{Key: f.Key, Value: f.Value})
	}
	return dst
}

// With returns a Logger that also writes fields on every line, sharing l's
// sinks, level and counters. A field that cannot be placed is left out and
// reported to OnError. Derived loggers share the plans compiled for l, so
// emitting through one costs what emitting through l does.
func (l *Logger) With(fields ...Field) *Logger {
	if l == nil {
		return nil
	}
	var buf [8]encode.Field // With is called per unit of work: a few fields convert without allocating
	fx, err := l.h.C.Enc.Fix(l.h.Fixed, encodeFields(buf[:0], fields))
	if err != nil {
		l.h.C.Fail(fmt.Errorf("pipelog: With: %w", err))
	}
	return &Logger{h: core.Handle{C: l.h.C, Fixed: fx}}
}

// Enabled reports whether an event at level would be written anywhere.
func (l *Logger) Enabled(level event.Level) bool { return l != nil && l.h.C.Enabled(level) }

// Level returns the least severe level written.
func (l *Logger) Level() event.Level {
	if l == nil {
		return event.LevelInfo
	}
	return l.h.C.Level()
}

// SetLevel changes the least severe level written, for l and every Logger
// derived from it, at run time. It is safe to call concurrently with Emit.
func (l *Logger) SetLevel(level event.Level) {
	if l != nil {
		l.h.C.SetLevel(level)
	}
}

// Flush blocks until every sink has handed on what it was given, or ctx
// ends. It returns the sinks' errors, joined, each a *sink.WriteError.
func (l *Logger) Flush(ctx context.Context) error {
	if l == nil {
		return nil
	}
	return l.h.C.Flush(ctx)
}

// Close flushes and closes every sink within ctx's deadline and returns
// what they reported, each a *sink.WriteError. Events emitted after Close
// are dropped, counted and reported. Later calls return what the first one
// did. Closing a derived Logger closes the sinks it shares.
func (l *Logger) Close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	return l.h.C.Close(ctx)
}

// Stats are a Logger's counters since New, shared with the loggers derived
// from it. The JSON names are those of pipelogexpvar and event.LoggerStats.
type Stats struct {
	Written    uint64 `json:"written"`     // events at least one sink took
	Failed     uint64 `json:"failed"`      // events every sink refused (each refusal is also a SinkError)
	Dropped    uint64 `json:"dropped"`     // events emitted after Close
	SinkErrors uint64 `json:"sink_errors"` // failed or panicking sink writes
	Errors     uint64 `json:"errors"`      // everything reported to OnError

	Sampled        uint64 `json:"sampled"`         // events dropped by sampling (Config.Sampling)
	EnricherPanics uint64 `json:"enricher_panics"` // enricher calls that panicked (Config.Enrichers)
}

// Stats returns the Logger's counters; all zero for a nil Logger.
func (l *Logger) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	s := l.h.C.Stats()
	return Stats{Written: s.Written, Failed: s.Failed, Dropped: s.Dropped, SinkErrors: s.SinkErrors, Errors: s.Errors,
		Sampled: s.Sampled, EnricherPanics: s.EnricherPanics}
}

// fail reports err through the Logger's OnError (or standard error).
func (l *Logger) fail(err error) {
	if l != nil {
		l.h.C.Fail(err)
	}
}

// The bounds of Config.MaxStringBytes and Config.MaxLineBytes when they
// are zero: strings of 256 KiB; lines of 1 MiB less 4 KiB, which fit
// Kafka's default message.max.bytes (1 MiB + 12 bytes) with a record's key
// and headers, and a tenth of Filebeat's default max_bytes (10 MiB).
const (
	DefaultMaxStringBytes = encode.DefaultMaxStringBytes
	DefaultMaxLineBytes   = encode.DefaultMaxLineBytes
)
