// Package encode is pipelog's encoder: it writes events as Elastic Common
// Schema NDJSON lines that follow the ecs-logging spec exactly. It is
// internal to the module; package ecs is its public face, the root package
// and the adapters its users. It imports package event and the standard
// library only.
//
// Every line is one JSON object followed by '\n', and begins
//
//	{"@timestamp":"2026-11-26T10:00:00.123456Z","log.level":"info","message":"…","ecs.version":"9.4.0",
//
// in that order, with log.level and ecs.version as dotted top-level keys and
// every other field nested (service.name is written {"service":{"name":…}}).
// The encoder never writes a key twice at any depth: each line's shape comes
// from a tree of keys built once per Encoder, event type and fixed-field
// shape, and a field that would land where another already is is refused
// when the tree is built. The tree is compiled into programs of steps (one
// per kind of record, see compile), which the run loop executes.
//
// Field placement:
//
//   - Library fields: service.*, event.action (the event type's name),
//     event.kind, event.id, event.dataset, event.reason, host.hostname,
//     process.pid, process.thread.name/id, log.logger, log.origin.* (caller,
//     when enabled), trace.id, span.id, transaction.id, http.request.id,
//     http.response.status_code, error.message/type/stack_trace, labels.
//   - A typed event's field tagged `ecs:"a.b"` is written at a.b; its Go type
//     is checked against the ECS type of a.b in ECS Version when the event
//     type is first seen (see Check). Only event.kind among the library's
//     fields may be claimed by an event; any other claim is an error.
//   - Untagged fields go under Pipelog.<EventName>. ECS never uses capital
//     letters, so a capitalised root cannot collide with ECS, and each event
//     type owns its object, so two types never conflict in a mapping.
//     Pipelog.warning holds Base.Warning and Pipelog.encode_errors lists
//     values that could not be encoded (a String method that panicked, say).
//
// Values: strings are escaped, invalid UTF-8 becomes U+FFFD, strings longer
// than Config.MaxStringBytes are cut and marked; NaN and ±Inf become null;
// time.Time is RFC 3339 UTC; time.Duration is nanoseconds; errors are their
// Error() text; a panic inside a value's String, Error, MarshalText or
// MarshalJSON method is recovered, the value written as null and the panic
// listed in Pipelog.encode_errors.
//
// An Encoder is safe for concurrent use; its caches only grow. It appends
// into caller-owned buffers and does not allocate on the typed-event path,
// except for values that need reflection (maps, slices other than []string)
// or methods (String, MarshalJSON) that allocate themselves. It reads an
// event in place through an unsafe.Pointer, at offsets computed once per
// type, and keeps nothing of it: see AppendEvent for what that requires of
// callers, and the input/state split in append.go for why the allocation
// tests guard it.
package encode

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipelog/pipelog/event"
)

// DefaultMaxStringBytes is the length (in bytes of the string, before
// escaping) past which a string value is cut when Config.MaxStringBytes is
// zero.
const DefaultMaxStringBytes = 256 << 10

// DefaultMaxLineBytes bounds a whole line when Config.MaxLineBytes is zero:
// 1 MiB less 4 KiB, so that a line with a Kafka record's key and headers
// still fits Kafka's default message.max.bytes (1 MiB + 12 bytes), and far
// below Filebeat's default max_bytes of 10 MiB per message (Filebeat cuts a
// longer message, and its log input skips a line longer than its read
// buffer can hold).
const DefaultMaxLineBytes = 1<<20 - 4<<10

// Config is what an Encoder writes on every line. Strings left empty are not
// written.
type Config struct {
	ServiceName        string // service.name
	ServiceVersion     string // service.version
	ServiceEnvironment string // service.environment
	ServiceNodeName    string // service.node.name
	Dataset            string // event.dataset; defaults to ServiceName, per the ecs-logging spec
	Hostname           string // host.hostname
	PID                int    // process.pid, when > 0
	LoggerName         string // log.logger, unless a Record names its own
	// MaxStringBytes cuts longer strings (0: DefaultMaxStringBytes, <0: never).
	MaxStringBytes int
	// MaxLineBytes bounds a whole line, newline included (0:
	// DefaultMaxLineBytes, <0: never; at least 4096). A longer line is
	// written again with its arrays, objects and strings cut, noted in
	// Pipelog.encode_errors; should that still be too long, only the base
	// fields (time, level, message, event, service) and the note are.
	MaxLineBytes int
}

// Field is a fixed field (Config.Fields, Logger.With). An ECS name puts it
// on that ECS field, type-checked; any other key makes it a label
// (labels.<key>, a string), because labels are the ECS place for free
// key/value pairs and cannot conflict in a mapping.
type Field struct {
	Key   string
	Value any // string, bool, integer and float types, time.Time, time.Duration, []string
}

// Label is one labels.<key> pair of a line.
type Label = event.Label

// Record is what changes from one line to the next, gathered by the caller.
type Record struct {
	Time    time.Time
	EventID []byte // event.id (the bytes of a pooled line: not kept)
	Base    event.Base
	Logger  string // log.logger; empty: Config.LoggerName
	// LevelName, when set, is written as log.level instead of Base.Level's
	// name: zap's DPanic, Panic and Fatal are "dpanic", "panic" and
	// "fatal", as ecszap writes them, not "error+1".
	LevelName string
	Correlation
	Caller
}

// Correlation is what a context supplies.
type Correlation struct {
	CorrelationID string // written to trace.id when TraceID is empty
	TraceID       string
	SpanID        string
	TransactionID string
	RequestID     string
	Worker        string // process.thread.name
	ThreadID      int64  // process.thread.id, when > 0
	Labels        []Label
}

// Caller is log.origin.*; an empty File writes nothing.
type Caller struct {
	File     string
	Line     int
	Function string
}

// Encoder appends ECS lines. See the package comment. One Encoder serves a
// root Logger and every Logger derived from it: what differs between them
// (their fixed fields) is a *Fixed passed with each line, and the compiled
// plans are shared by every Fixed of the same shape.
type Encoder struct {
	cfg    Config
	max    int
	line   int // MaxLineBytes, or 0 for no bound
	cutMu  sync.Mutex
	cutEnc atomic.Pointer[Encoder] // the same config with shorter strings, for a line over the bound
	root   *node                   // the library's tree, shared by every event type
	dyn    dynamicPlans
	second atomic.Pointer[secondCache] // the last @timestamp second, formatted

	plansMu sync.Mutex
	plans   atomic.Pointer[[]*typePlans] // by typeInfo.id; copied on write
	base    atomic.Pointer[typePlans]    // plans of lines without a typed event
}

// typePlans holds one event type's plans, one per fixed-field shape. It is
// never modified once published: adding a plan publishes a new one.
type typePlans struct{ list []shapePlan }

type shapePlan struct {
	shape *Shape
	plan  *plan
}

// NewEncoder returns an Encoder for cfg.
func NewEncoder(cfg Config) *Encoder {
	if cfg.Dataset == "" {
		cfg.Dataset = cfg.ServiceName
	}
	e := &Encoder{cfg: cfg, max: cfg.MaxStringBytes, line: cfg.MaxLineBytes}
	if e.max == 0 {
		e.max = DefaultMaxStringBytes
	}
	switch {
	case e.line == 0:
		e.line = DefaultMaxLineBytes
	case e.line < 0:
		e.line = 0
	case e.line < 4096:
		e.line = 4096
	}
	e.root = e.libraryTree()
	return e
}

// Config returns the configuration the encoder was made with.
func (e *Encoder) Config() Config { return e.cfg }

// planFor returns the plan of the event type ti (nil: lines without a typed
// event) for fixed fields of shape sh, building it the first time.
func (e *Encoder) planFor(ti *typeInfo, sh *Shape) *plan {
	var tp *typePlans
	if ti == nil {
		tp = e.base.Load()
	} else if all := e.plans.Load(); all != nil && ti.id < len(*all) {
		tp = (*all)[ti.id]
	}
	if tp != nil {
		for i := range tp.list {
			if tp.list[i].shape == sh {
				return tp.list[i].plan
			}
		}
	}
	return e.addPlan(ti, sh)
}

// maxShapesPerType bounds the plans kept per event type; past it (a program
// deriving loggers with ever new sets of fixed ECS fields) plans are built
// per line and not kept.
const maxShapesPerType = 64

func (e *Encoder) addPlan(ti *typeInfo, sh *Shape) *plan {
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	var old *typePlans
	var all []*typePlans
	if ti == nil {
		old = e.base.Load()
	} else {
		if p := e.plans.Load(); p != nil {
			all = *p
		}
		if ti.id < len(all) {
			old = all[ti.id]
		}
	}
	if old != nil {
		for i := range old.list {
			if old.list[i].shape == sh {
				return old.list[i].plan // built by another goroutine meanwhile
			}
		}
		if len(old.list) >= maxShapesPerType {
			return e.buildPlan(ti, sh)
		}
	}
	pl := e.buildPlan(ti, sh)
	next := &typePlans{}
	if old != nil {
		next.list = append(next.list, old.list...)
	}
	next.list = append(next.list, shapePlan{shape: sh, plan: pl})
	if ti == nil {
		e.base.Store(next)
		return pl
	}
	grown := make([]*typePlans, max(len(all), ti.id+1))
	copy(grown, all)
	grown[ti.id] = next
	e.plans.Store(&grown)
	return pl
}

func (e *Encoder) static(name string, value []byte) *node {
	n := newNode(name, opStatic)
	n.static = value
	return n
}

func (e *Encoder) str(s string) []byte { return appendString(nil, s, e.max) }

func (e *Encoder) libraryTree() *node {
	root := newNode("", opObject)
	add := func(path string, n *node) {
		if err := root.insert(path, n); err != nil {
			panic("ecs: library tree: " + err.Error()) // a bug in this file, caught by every test
		}
	}
	addStr := func(path, v string) {
		if v != "" {
			add(path, e.static(path, e.str(v)))
		}
	}
	addStr("service.name", e.cfg.ServiceName)
	addStr("service.version", e.cfg.ServiceVersion)
	addStr("service.environment", e.cfg.ServiceEnvironment)
	addStr("service.node.name", e.cfg.ServiceNodeName)
	add("event.action", e.static("", nil)) // set per event type; nil writes nothing
	kind := e.static("", e.str("event"))
	kind.overridable = true
	add("event.kind", kind)
	add("event.id", newNode("", opEventID))
	addStr("event.dataset", e.cfg.Dataset)
	add("event.reason", newNode("", opReason))
	addStr("host.hostname", e.cfg.Hostname)
	if e.cfg.PID > 0 {
		add("process.pid", e.static("", strconv.AppendInt(nil, int64(e.cfg.PID), 10)))
	}
	add("process.thread.name", newNode("", opWorker))
	add("process.thread.id", newNode("", opThreadID))
	add("log.logger", newNode("", opLogger))
	add("log.origin.file.name", newNode("", opFile))
	add("log.origin.file.line", newNode("", opLine))
	add("log.origin.function", newNode("", opFunction))
	add("trace.id", newNode("", opTraceID))
	add("span.id", newNode("", opSpanID))
	add("transaction.id", newNode("", opTransaction))
	add("http.request.id", newNode("", opRequestID))
	add("http.response.status_code", newNode("", opStatusCode))
	add("error.message", newNode("", opErrMessage))
	add("error.type", newNode("", opErrType))
	add("error.stack_trace", newNode("", opErrStack))
	add("labels", newNode("", opLabels))
	add("Pipelog.warning", newNode("", opWarning))
	return root
}

// pipelogRoot is the capitalised custom-field root; see the package comment.
const pipelogRoot = "Pipelog"
