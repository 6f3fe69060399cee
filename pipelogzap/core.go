// Package pipelogzap is a zapcore.Core that writes zap entries through a
// pipelog Logger: the same ECS lines, correlation, sinks and counters as
// typed events, instead of ecszap.
//
//	zl := zap.New(pipelogzap.NewCore(log), zap.AddCaller())
//
// It imports go.uber.org/zap, the root package and the module's internal
// encoder and core; programs that do not import it never link zap.
package pipelogzap

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/internal/encode"
)

// NewCore returns a zapcore.Core that writes entries as ECS lines through
// log's encoder and sinks, so zap users get the same output as typed events:
//
//	logger := zap.New(pipelogzap.NewCore(log), zap.AddCaller())
//	logger.Info("order accepted", zap.String("url.path", "/orders"), zap.Error(err))
//
// Fields are placed as slog attributes are (see pipelogslog.NewHandler): ECS
// names with fitting values on their ECS fields, "labels.<k>" strings as
// labels, everything else under Pipelog.Attrs, zap.Namespace and
// zap.Object as nested objects, dotted keys split, no key ever written
// twice (a later field replaces an earlier one at the same path). Besides:
//
//   - A field of error type named "error" (zap.Error) or "err" becomes the
//     line's error, inside a namespace too: error.message, error.type (the
//     first type that is not a %w or errors.Join wrapper) and
//     error.stack_trace; the last one wins. Other error fields
//     (zap.NamedError) are written under Pipelog.Attrs as zap writes them
//     (the text, plus <key>Verbose / <key>Causes where zap adds those).
//   - A field named "message", "ecs.version" or any other field pipelog
//     writes itself goes under Pipelog.Attrs: the top-level keys are
//     written once, and ecs.version stays top-level after zap.Namespace.
//   - The caller's field slice is only read, never modified.
//   - Levels: Debug → debug, Info → info, Warn → warn, Error → error,
//     DPanic/Panic/Fatal → dpanic/panic/fatal, as ecszap writes them (their
//     event levels, for Config.Level and MinLevel, are Error+1/+2/+3).
//   - zap.Object (and zap.Dict, zap.Any of an ObjectMarshaler) is one
//     object: its members go on ECS fields only when every one of them
//     fits one; otherwise all of it goes under Pipelog.Attrs, with a note
//     (see pipelogslog.NewHandler). zap.Namespace is a prefix, not an
//     object: each field after it is placed on its own.
//   - Every method of the caller's values the core calls is guarded:
//     MarshalLogObject, MarshalLogArray, MarshalJSON, MarshalText, Error,
//     String. A zap.Stringer whose String panics is written as zap writes
//     it ("<nil>" for a nil pointer, else "<key>Error": "PANIC=…"), and so
//     is zap.NamedError's (zap guards it). A panic is noted in Pipelog.encode_errors
//     and the field is left out (an object keeps the members it added
//     before it panicked); the host never panics because of a field.
//   - Entry.LoggerName (zap's Named) is log.logger, after pipelog's
//     Config.Name.
//   - Entry.Caller (zap.AddCaller) is log.origin.*; Entry.Stack
//     (zap.AddStacktrace) is error.stack_trace when the entry has an error
//     (a stack the error carries itself, event.WithStack, is preferred),
//     else Pipelog.stack_trace.
//   - Context(ctx) as a field supplies correlation and trace from ctx.
//   - Entries above Error (DPanic, Panic, Fatal) flush the sinks before
//     Write returns (at most 5s), since zap may panic or exit next.
//
// With encodes its fields once. Sync flushes the Logger's sinks. Sampling
// works by wrapping: zapcore.NewSamplerWithOptions(pipelogzap.NewCore(log), …).
// Write never returns sink errors to zap: they go to pipelog's
// Config.OnError.
func NewCore(log *pipelog.Logger) zapcore.Core {
	return &zapCore{l: core.LoggerHandle(log), names: &zapNames{}}
}

// Context returns a zap field that makes the entry take correlation,
// trace and the other logctx values from ctx, as Emit does. Other cores
// ignore it (it is a zapcore.SkipType field).
func Context(ctx context.Context) zapcore.Field {
	return zapcore.Field{Type: zapcore.SkipType, Interface: ctx}
}

type zapCore struct {
	l     *core.Handle  // nil for a nil Logger: the core discards everything
	attrs *encode.Attrs // With fields, frozen; nil when there are none
	err   error         // an error field from With
	ctx   context.Context
	names *zapNames // shared by the cores With derives
}

// zapNames caches the log.logger value per zap logger name (zap's Named
// joins with '.'; pipelog's Config.Name comes first), so that a line does
// not build the string again. Past maxZapNames names, lines are written
// with the joined name built per line.
type zapNames struct {
	m sync.Map // string → string
	n atomic.Int32
}

const maxZapNames = 256

func (zc *zapCore) loggerName(name string) string {
	if name == "" {
		return ""
	}
	if v, ok := zc.names.m.Load(name); ok {
		return v.(string)
	}
	full := name
	if base := zc.l.C.Enc.Config().LoggerName; base != "" {
		full = base + "." + name
	}
	if zc.names.n.Load() >= maxZapNames {
		return full
	}
	if _, loaded := zc.names.m.LoadOrStore(name, full); !loaded {
		zc.names.n.Add(1)
	}
	return full
}

// zapLevel maps zap's levels onto event levels.
func zapLevel(l zapcore.Level) event.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return event.Level(max(-128, int(event.LevelDebug)+int(l-zapcore.DebugLevel)))
	case l == zapcore.InfoLevel:
		return event.LevelInfo
	case l == zapcore.WarnLevel:
		return event.LevelWarn
	case l == zapcore.ErrorLevel:
		return event.LevelError
	}
	return event.Level(min(127, int(event.LevelError)+int(l-zapcore.ErrorLevel)))
}

// zapLevelName names the levels above Error as zap and ecszap do; the
// others are named by their event level.
func zapLevelName(l zapcore.Level) string {
	switch l {
	case zapcore.DPanicLevel:
		return "dpanic"
	case zapcore.PanicLevel:
		return "panic"
	case zapcore.FatalLevel:
		return "fatal"
	}
	return ""
}

func (zc *zapCore) Enabled(level zapcore.Level) bool {
	return zc.l != nil && zc.l.C.Enabled(zapLevel(level))
}

func (zc *zapCore) With(fields []zapcore.Field) zapcore.Core {
	if len(fields) == 0 || zc.l == nil {
		return zc
	}
	zc2 := *zc
	if zc.attrs != nil {
		zc2.attrs = zc.attrs.Clone()
	} else {
		zc2.attrs = &encode.Attrs{}
		zc2.attrs.Reset(zc.l.C.Enc, zc.l.Fixed)
	}
	o := zapObjectEncoder{a: zc2.attrs}
	for i := range fields {
		addZapField(&o, &fields[i], &zc2.err, &zc2.ctx)
	}
	return &zc2
}

func (zc *zapCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if zc.Enabled(ent.Level) {
		return ce.AddCore(ent, zc)
	}
	return ce
}

func (zc *zapCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	l := zc.l
	if l == nil {
		return nil
	}
	c := l.C
	zs := zapScratches.Get().(*zapScratch)
	s := &zs.Scratch
	if zc.attrs != nil {
		s.Attrs.CopyFrom(zc.attrs)
	} else {
		s.Attrs.Reset(c.Enc, l.Fixed)
	}
	zs.obj.a = &s.Attrs
	err, ctx := zc.err, zc.ctx
	for i := range fields {
		addZapField(&zs.obj, &fields[i], &err, &ctx)
	}
	zs.obj.a = nil
	ln := c.GetLine()
	rec := encode.Record{Time: ent.Time, Logger: zc.loggerName(ent.LoggerName), LevelName: zapLevelName(ent.Level)}
	if rec.Time.IsZero() {
		rec.Time = c.Now()
	}
	stack := ent.Stack
	if stack != "" && err != nil {
		err, stack = encode.WithStackTrace(err, stack), ""
	}
	rec.Base = event.Base{Level: zapLevel(ent.Level), Message: ent.Message, Err: err}
	c.GatherLine(ctx, ln, &rec) // context values and Config.Enrichers
	if ent.Caller.Defined {
		rec.Caller = encode.Caller{File: ent.Caller.File, Line: ent.Caller.Line, Function: ent.Caller.Function}
	}
	c.WriteAttrs(ln, &rec, s, stack)
	core.PutLine(ln)
	if !s.Big() {
		zapScratches.Put(zs)
	}
	if ent.Level > zapcore.ErrorLevel {
		// DPanic, Panic and Fatal: zap may panic or exit next, so hand the
		// line on now, as zap's own cores do.
		ctx, cancel := context.WithTimeout(context.Background(), zapFatalFlush)
		_ = c.Flush(ctx)
		cancel()
	}
	return nil
}

// zapScratch is what one Write needs, pooled: the adapter scratch and the
// ObjectEncoder handed to fields (an interface argument, so it must not
// live on the stack of Write).
type zapScratch struct {
	core.Scratch
	obj zapObjectEncoder
}

var zapScratches = sync.Pool{New: func() any { return new(zapScratch) }}

// zapFatalFlush bounds the flush after a DPanic, Panic or Fatal entry.
const zapFatalFlush = 5 * time.Second

// Sync flushes the Logger's sinks.
func (zc *zapCore) Sync() error {
	if zc.l == nil {
		return nil
	}
	return zc.l.C.Flush(context.Background())
}

// addZapField adds f, reading it only.
func addZapField(o *zapObjectEncoder, f *zapcore.Field, err *error, ctx *context.Context) {
	switch f.Type {
	case zapcore.ErrorType:
		if f.Key == "error" || f.Key == "err" {
			if e, ok := f.Interface.(error); ok {
				*err = e
				return
			}
		}
	case zapcore.SkipType:
		if c, ok := f.Interface.(context.Context); ok {
			*ctx = c
		}
		return
	case zapcore.ObjectMarshalerType, zapcore.ArrayMarshalerType, zapcore.InlineMarshalerType:
		addGuarded(o, f)
		return
	case zapcore.StringerType:
		addStringer(o, f)
		return
	}
	f.AddTo(o)
}

// addStringer writes zap.Stringer's field as zap does, a panic in String
// as "<nil>" for a nil pointer and "<key>Error": "PANIC=…" otherwise, and
// notes the panic.
func addStringer(o *zapObjectEncoder, f *zapcore.Field) {
	s, r := callString(f.Interface)
	switch {
	case r == nil:
		o.a.AddString(f.Key, s)
	case isNilPointer(f.Interface):
		o.a.AddString(f.Key, "<nil>")
		o.a.AddProblemAt(f.Key, fmt.Sprintf("a nil %T was passed as a fmt.Stringer", f.Interface))
	default:
		msg := "PANIC=" + encode.PanicText(r)
		o.a.AddString(f.Key+"Error", msg)
		o.a.AddProblemAt(f.Key, fmt.Sprintf("%T's String method panicked: %s", f.Interface, encode.PanicText(r)))
	}
}

func callString(v any) (s string, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = r
		}
	}()
	if st, ok := v.(fmt.Stringer); ok {
		return st.String(), nil
	}
	return fmt.Sprint(v), nil
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// addGuarded is f.AddTo behind a recover, for the fields whose AddTo runs
// the caller's code outside the encoder's own guards: zap.Inline calls
// MarshalLogObject directly, and AddTo calls the Error method of what a
// marshaller returned. A panic leaves the field out (what an object added
// before it stays), noted.
func addGuarded(o *zapObjectEncoder, f *zapcore.Field) {
	depth := o.a.Depth()
	defer func() {
		if r := recover(); r != nil {
			o.a.CloseUnitsTo(depth)
			o.a.AddProblemAt(f.Key, fmt.Sprintf("%T panicked: %s", f.Interface, encode.PanicText(r)))
		}
	}()
	f.AddTo(o)
}

// zapObjectEncoder is a zapcore.ObjectEncoder over encode.Attrs.
type zapObjectEncoder struct {
	a *encode.Attrs
}

// AddArray writes the array m marshals; if MarshalLogArray panics (at any
// depth: nested arrays and objects are marshalled inside it), the array is
// left out, noted.
func (o *zapObjectEncoder) AddArray(key string, m zapcore.ArrayMarshaler) (err error) {
	ae := getZapArray(o.a.Encoder())
	if ae.guardedMarshal(m, &err) {
		o.a.AddRaw(key, ae.buf, encode.ShapeOf(ae.buf))
	} else {
		o.a.AddProblemAt(key, fmt.Sprintf("%T's MarshalLogArray panicked: %s; the array is left out", m, ae.panicked))
	}
	for _, p := range ae.probs {
		o.a.AddProblem(p)
	}
	putZapArray(ae)
	return err
}

// AddObject writes the object m marshals, as one unit (see NewCore); if
// MarshalLogObject panics, the members it added stay, noted.
func (o *zapObjectEncoder) AddObject(key string, m zapcore.ObjectMarshaler) (err error) {
	depth := o.a.Depth()
	o.a.OpenUnit(key)
	defer func() {
		if r := recover(); r != nil {
			o.a.AddProblemAt(key, fmt.Sprintf("%T's MarshalLogObject panicked: %s", m, encode.PanicText(r)))
			err = nil
		}
		o.a.CloseUnitsTo(depth) // also closes namespaces the object opened
	}()
	return m.MarshalLogObject(o)
}

func (o *zapObjectEncoder) AddBinary(key string, v []byte) {
	o.a.AddString(key, base64.StdEncoding.EncodeToString(v))
}

func (o *zapObjectEncoder) AddByteString(key string, v []byte) {
	o.a.AddString(key, string(v)) // a copy: a label keeps the string
}

func (o *zapObjectEncoder) AddBool(key string, v bool) { o.a.AddBool(key, v) }
func (o *zapObjectEncoder) AddComplex128(key string, v complex128) {
	o.a.AddString(key, strconv.FormatComplex(v, 'g', -1, 128))
}
func (o *zapObjectEncoder) AddComplex64(key string, v complex64) {
	o.a.AddString(key, strconv.FormatComplex(complex128(v), 'g', -1, 64))
}
func (o *zapObjectEncoder) AddDuration(key string, v time.Duration) { o.a.AddDuration(key, v) }
func (o *zapObjectEncoder) AddFloat64(key string, v float64)        { o.a.AddFloat(key, v, 64) }
func (o *zapObjectEncoder) AddFloat32(key string, v float32)        { o.a.AddFloat(key, float64(v), 32) }
func (o *zapObjectEncoder) AddInt(key string, v int)                { o.a.AddInt(key, int64(v)) }
func (o *zapObjectEncoder) AddInt64(key string, v int64)            { o.a.AddInt(key, v) }
func (o *zapObjectEncoder) AddInt32(key string, v int32)            { o.a.AddInt(key, int64(v)) }
func (o *zapObjectEncoder) AddInt16(key string, v int16)            { o.a.AddInt(key, int64(v)) }
func (o *zapObjectEncoder) AddInt8(key string, v int8)              { o.a.AddInt(key, int64(v)) }
func (o *zapObjectEncoder) AddString(key, v string)                 { o.a.AddString(key, v) }
func (o *zapObjectEncoder) AddTime(key string, v time.Time)         { o.a.AddTime(key, v) }
func (o *zapObjectEncoder) AddUint(key string, v uint)              { o.a.AddUint(key, uint64(v)) }
func (o *zapObjectEncoder) AddUint64(key string, v uint64)          { o.a.AddUint(key, v) }
func (o *zapObjectEncoder) AddUint32(key string, v uint32)          { o.a.AddUint(key, uint64(v)) }
func (o *zapObjectEncoder) AddUint16(key string, v uint16)          { o.a.AddUint(key, uint64(v)) }
func (o *zapObjectEncoder) AddUint8(key string, v uint8)            { o.a.AddUint(key, uint64(v)) }
func (o *zapObjectEncoder) AddUintptr(key string, v uintptr)        { o.a.AddUint(key, uint64(v)) }

func (o *zapObjectEncoder) AddReflected(key string, v any) error {
	o.a.AddAny(key, v)
	return nil
}

// OpenNamespace opens a group that stays open to the end of the entry (or
// of the zap.Object being marshalled).
func (o *zapObjectEncoder) OpenNamespace(key string) { o.a.OpenGroup(key) }
