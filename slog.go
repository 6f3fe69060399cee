package pipelog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unsafe"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/internal/unsafex"
)

// SlogOptions configures the slog.Handler returned by Logger.SlogHandler.
// A nil *SlogOptions means the zero value.
type SlogOptions struct {
	// Level, when set, is the least severe level the handler passes on. The
	// Logger's own level and its sinks' MinLevel still apply on top of it.
	Level slog.Leveler
	// AddSource writes log.origin.* from the record's PC. Config.Caller
	// turns it on as well.
	AddSource bool
}

// SlogHandler returns a slog.Handler that writes records as ECS lines
// through l's encoder, correlation and sinks, so that code logging with
// log/slog gets the same output as typed events:
//
//	slog.SetDefault(slog.New(log.SlogHandler(nil)))
//	slog.InfoContext(ctx, "order accepted", "url.path", "/orders", "tenant", "acme")
//
// writes message "order accepted", url.path on its ECS field and tenant at
// Pipelog.Attrs.tenant.
//
// Mapping:
//
//   - Time, message and level: @timestamp, message, log.level. A record
//     without a time gets the Logger's clock (@timestamp is required). slog
//     levels are event levels (Debug -4, Info 0, Warn 4, Error 8); custom
//     levels pass through, clamped to -128..127, and are written like
//     "info+2".
//   - The record's context supplies trace.id, span.id, correlation and the
//     other logctx values, exactly as for Emit.
//   - An attribute whose full path (open groups and key, dot-joined) is an
//     ECS field that pipelog does not write itself, with a value of a fitting
//     type, is written on that ECS field: "url.path", "http.request.method",
//     or slog.Group("user", slog.String("name", n)) for user.name.
//     "labels.<k>" with a string value is a label (it wins over a context
//     label of the same key). A field fixed with Logger.With or
//     Config.Fields keeps its value: an attribute of the same name is kept
//     under Pipelog.Attrs instead.
//   - An attribute named "err" or "error" outside any group whose value is
//     an error becomes the line's error: error.message, error.type (walking
//     %w chains and errors.Join) and error.stack_trace. If there are several,
//     the last wins. Other error values are written as their Error() text.
//   - Every other attribute goes under Pipelog.Attrs, groups as nested
//     objects, dotted keys split into nested objects ("a.b" is
//     {"a":{"b":…}}, an empty key or key segment is "_"). Maps and structs
//     (encoded by MarshalJSON or encoding/json) get the same key rules.
//   - No key is ever written twice: a later attribute replaces an earlier one
//     at the same path (record attributes replace WithAttrs ones), groups
//     with the same name merge, empty groups are left out. See encode.Attrs.
//
// WithAttrs encodes its attributes once; a record then copies the encoded
// bytes. Handlers are immutable and safe for concurrent use.
func (l *Logger) SlogHandler(opts *SlogOptions) slog.Handler {
	h := &slogHandler{l: l}
	if opts != nil {
		h.level, h.source = opts.Level, opts.AddSource
	}
	if l != nil && l.core.caller {
		h.source = true
	}
	return h
}

type slogHandler struct {
	l      *Logger
	level  slog.Leveler
	source bool
	attrs  *encode.Attrs // WithAttrs and WithGroup, frozen; nil when there are none
	err    error         // an "err"/"error" attribute from WithAttrs
}

// slogLevel converts a slog level to an event level, clamping it.
func slogLevel(l slog.Level) event.Level {
	return event.Level(max(-128, min(127, int(l))))
}

func (h *slogHandler) Enabled(_ context.Context, level slog.Level) bool {
	if h.l == nil {
		return false
	}
	if h.level != nil && level < h.level.Level() {
		return false
	}
	return h.l.Enabled(slogLevel(level))
}

func (h *slogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 || h.l == nil {
		return h
	}
	h2 := *h
	h2.attrs = h.cloneAttrs()
	for _, a := range as {
		addSlogAttr(h2.attrs, a, &h2.err)
	}
	return &h2
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" || h.l == nil {
		return h
	}
	h2 := *h
	h2.attrs = h.cloneAttrs()
	h2.attrs.OpenGroup(name)
	return &h2
}

func (h *slogHandler) cloneAttrs() *encode.Attrs {
	if h.attrs != nil {
		return h.attrs.Clone()
	}
	a := &encode.Attrs{}
	a.Reset(h.l.enc)
	return a
}

// adapterScratch is what one adapter line needs, pooled.
type adapterScratch struct {
	attrs  encode.Attrs
	custom []byte
	zap    zapObjectEncoder
}

var adapterScratches = sync.Pool{New: func() any { return new(adapterScratch) }}

func getAdapterScratch() *adapterScratch { return adapterScratches.Get().(*adapterScratch) }

func putAdapterScratch(s *adapterScratch) {
	if cap(s.custom) > 64<<10 {
		return
	}
	s.zap = zapObjectEncoder{}
	adapterScratches.Put(s)
}

func (h *slogHandler) Handle(ctx context.Context, r slog.Record) error {
	l := h.l
	if l == nil {
		return nil
	}
	c := l.core
	s := getAdapterScratch()
	if h.attrs != nil {
		s.attrs.CopyFrom(h.attrs)
	} else {
		s.attrs.Reset(l.enc)
	}
	err := h.err
	if r.NumAttrs() > 0 {
		r.Attrs(func(a slog.Attr) bool {
			addSlogAttr(&s.attrs, a, &err)
			return true
		})
	}
	level := slogLevel(r.Level)
	var id [32]byte
	rec := encode.Record{Time: r.Time, EventID: c.ids.next(&id)}
	if rec.Time.IsZero() {
		rec.Time = c.now()
	}
	rec.Base = event.Base{Level: level, Message: r.Message, Err: err}
	c.gatherAdapter(ctx, &rec)
	if h.source && r.PC != 0 {
		rec.Caller = callerForPC(r.PC)
	}
	c.writeAdapter(l.enc, &rec, s, "")
	return nil
}

// writeAdapter encodes and writes the line of an adapter record whose
// fields are in s.attrs. stack, when set, is a stack trace with no error to
// carry it (zap's AddStacktrace).
func (c *core) writeAdapter(enc *encode.Encoder, rec *encode.Record, s *adapterScratch, stack string) {
	recp := (*encode.Record)(unsafex.NoEscape(unsafe.Pointer(rec)))
	recp.Labels = s.attrs.Labels(recp.Labels)
	custom := s.attrs.AppendCustom(s.custom[:0], "Attrs")
	if stack != "" {
		if len(custom) > 0 {
			custom = append(custom, ',')
		}
		custom = append(custom, `"stack_trace":`...)
		custom = enc.AppendStringValue(custom, stack)
	}
	s.custom = custom
	buf := getBuffer()
	buf.b = enc.AppendAttrs(buf.b[:0], recp, &s.attrs, custom)
	if probs := s.attrs.Problems(); len(probs) > 0 {
		c.fail(fmt.Errorf("pipelog: encoding attributes: %s", strings.Join(probs, "; ")))
	}
	c.write(recp.Base.Level, buf.b)
	putBuffer(buf)
	putAdapterScratch(s)
}

// gatherAdapter fills rec from ctx (and the thread ID when enabled), like
// gather without its caller lookup: adapters take the caller from the
// record (slog's PC, zap's Entry.Caller).
func (c *core) gatherAdapter(ctx context.Context, rec *encode.Record) {
	if ctx != nil {
		v := logctx.From(ctx)
		rec.Correlation = encode.Correlation{
			CorrelationID: v.CorrelationID,
			TraceID:       v.TraceID,
			SpanID:        v.SpanID,
			TransactionID: v.TransactionID,
			RequestID:     v.RequestID,
			Worker:        v.Worker,
			Labels:        v.Labels,
		}
	}
	if c.thread {
		rec.ThreadID = goroutineID()
	}
}

// addSlogAttr adds a to as, following slog's rules: values are resolved,
// an attribute with an empty key and a nil value is ignored, a group with
// an empty key is inlined and an empty group is ignored.
func addSlogAttr(as *encode.Attrs, a slog.Attr, err *error) {
	v := a.Value.Resolve()
	key := a.Key
	switch v.Kind() {
	case slog.KindString:
		as.AddString(key, v.String())
	case slog.KindInt64:
		as.AddInt(key, v.Int64())
	case slog.KindUint64:
		as.AddUint(key, v.Uint64())
	case slog.KindFloat64:
		as.AddFloat(key, v.Float64(), 64)
	case slog.KindBool:
		as.AddBool(key, v.Bool())
	case slog.KindDuration:
		as.AddDuration(key, v.Duration())
	case slog.KindTime:
		as.AddTime(key, v.Time())
	case slog.KindGroup:
		g := v.Group()
		if len(g) == 0 {
			return
		}
		if key != "" {
			as.OpenGroup(key)
		}
		for _, ga := range g {
			addSlogAttr(as, ga, err)
		}
		if key != "" {
			as.CloseGroup()
		}
	default: // KindAny, KindLogValuer (resolved above)
		x := v.Any()
		if x == nil && key == "" {
			return
		}
		if e, ok := x.(error); ok && (key == "err" || key == "error") && as.Depth() == 0 {
			*err = e
			return
		}
		as.AddAny(key, x)
	}
}
