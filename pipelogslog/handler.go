// Package pipelogslog is a log/slog Handler that writes records through a
// pipelog Logger: the same ECS lines, correlation, sinks and counters as
// typed events.
//
//	slog.SetDefault(slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{})))
//
// The handler passes testing/slogtest. It imports log/slog, the root
// package and the module's internal encoder and core.
package pipelogslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/internal/encode"
)

// Config configures NewHandler. The zero value is fine.
type Config struct {
	// Level, when set, is the least severe level the handler passes on. The
	// Logger's own level and its sinks' MinLevel still apply on top of it.
	Level slog.Leveler
	// AddSource writes log.origin.* from the record's PC. The Logger's
	// pipelog.Config.Caller turns it on as well.
	AddSource bool
}

// NewHandler returns a slog.Handler that writes records as ECS lines
// through log's encoder, correlation and sinks, so that code logging with
// log/slog gets the same output as typed events:
//
//	slog.SetDefault(slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{})))
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
//     label of the same key). A field fixed with pipelog's Logger.With or
//     Config.Fields keeps its value: an attribute of the same name is kept
//     under Pipelog.Attrs instead.
//   - An attribute named "err" or "error" outside any group whose value is
//     an error becomes the line's error: error.message, error.type (walking
//     %w chains and errors.Join) and error.stack_trace. If there are several,
//     the last wins. Other error values are written as their Error() text.
//   - A string on an ECS ip field must be an address, an integer on an ECS
//     integer field within its range, and so on: a value that is not valid
//     for its ECS field's type goes under Pipelog.Attrs instead, with a note
//     in Pipelog.encode_errors. "http.response.status_code" is the record's
//     status (a record carries none of its own).
//   - A slog.Group attribute is one object: its members go on ECS fields
//     only when every one of them fits one; otherwise the whole group goes
//     under Pipelog.Attrs, with a note. slog.Group("user", "name", n,
//     "id", 3) is Pipelog.Attrs.user.{name,id} (an integer does not fit
//     user.id, a keyword), never user.name plus Pipelog.Attrs.user.id.
//     WithGroup is not an object but a prefix: each attribute below it is
//     placed on its own.
//   - Every other attribute goes under Pipelog.Attrs, groups as nested
//     objects, dotted keys split into nested objects ("a.b" is
//     {"a":{"b":…}}, an empty key or key segment is "_"). Values of kind
//     Any are written by the encoder's generic value encoder, as a typed
//     event's any field: MarshalJSON, MarshalText, Error or String, times in
//     UTC with µs, no HTML escaping, map keys by the same key rule, at most
//     encode.MaxValueDepth levels deep. An error that is not the line's is
//     its Error() text, "<nil>" for a typed nil whose Error panics.
//   - Every method of the caller's values that the handler calls (LogValue,
//     Error, String, MarshalJSON, MarshalText) is guarded: a panic is noted
//     in Pipelog.encode_errors and the line is written without that value
//     (LogValue's as slog writes it). Nothing the caller passes makes the
//     handler panic.
//   - No key is ever written twice: a later attribute replaces an earlier one
//     at the same path (record attributes replace WithAttrs ones), groups
//     with the same name merge, empty groups are left out. See encode.Attrs.
//
// WithAttrs encodes its attributes once; a record then copies the encoded
// bytes. Handlers are immutable and safe for concurrent use.
func NewHandler(log *pipelog.Logger, cfg Config) slog.Handler {
	h := &handler{l: core.LoggerHandle(log), level: cfg.Level, source: cfg.AddSource}
	if h.l != nil && h.l.C.Caller {
		h.source = true
	}
	return h
}

type handler struct {
	l      *core.Handle // nil for a nil Logger: the handler discards everything
	level  slog.Leveler
	source bool
	attrs  *encode.Attrs // WithAttrs and WithGroup, frozen; nil when there are none
	err    error         // an "err"/"error" attribute from WithAttrs
}

// slogLevel converts a slog level to an event level, clamping it.
func slogLevel(l slog.Level) event.Level {
	return event.Level(max(-128, min(127, int(l))))
}

func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	if h.l == nil {
		return false
	}
	if h.level != nil && level < h.level.Level() {
		return false
	}
	return h.l.C.Enabled(slogLevel(level))
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
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

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" || h.l == nil {
		return h
	}
	h2 := *h
	h2.attrs = h.cloneAttrs()
	h2.attrs.OpenGroup(name)
	return &h2
}

func (h *handler) cloneAttrs() *encode.Attrs {
	if h.attrs != nil {
		return h.attrs.Clone()
	}
	a := &encode.Attrs{}
	a.Reset(h.l.C.Enc, h.l.Fixed)
	return a
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	l := h.l
	if l == nil {
		return nil
	}
	c := l.C
	s := core.GetScratch()
	if h.attrs != nil {
		s.Attrs.CopyFrom(h.attrs)
	} else {
		s.Attrs.Reset(c.Enc, l.Fixed)
	}
	err := h.err
	if r.NumAttrs() > 0 {
		r.Attrs(func(a slog.Attr) bool {
			addSlogAttr(&s.Attrs, a, &err)
			return true
		})
	}
	ln := c.GetLine()
	rec := encode.Record{Time: r.Time}
	if rec.Time.IsZero() {
		rec.Time = c.Now()
	}
	rec.Base = event.Base{Level: slogLevel(r.Level), Message: r.Message, Err: err}
	c.GatherLine(ctx, ln, &rec) // context values and Config.Enrichers
	if h.source && r.PC != 0 {
		rec.Caller = core.CallerForPC(r.PC)
	}
	c.WriteAttrs(ln, &rec, s, "")
	core.PutLine(ln)
	core.PutScratch(s)
	return nil
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
			as.OpenUnit(key)
		}
		for _, ga := range g {
			addSlogAttr(as, ga, err)
		}
		if key != "" {
			as.CloseUnit()
		}
	default: // KindAny, KindLogValuer (resolved above)
		x := v.Any()
		if x == nil && key == "" {
			return
		}
		if e, ok := x.(error); ok {
			if (key == "err" || key == "error") && as.Depth() == 0 {
				*err = e
				return
			}
			if a.Value.Kind() == slog.KindLogValuer && reflect.TypeOf(e) == plainError && strings.HasPrefix(e.Error(), "LogValue panicked") {
				// slog's Resolve recovered the panic and gives its text,
				// which is written as slog writes it.
				as.AddProblemAt(key, fmt.Sprintf("%T's LogValue panicked", a.Value.Any()))
			}
			as.AddError(key, e)
			return
		}
		as.AddAny(key, x)
	}
}

// plainError is the type of the error slog's Resolve makes of a LogValue
// panic (the only error whose Error the handler calls unguarded: it is a
// stored string).
var plainError = reflect.TypeOf(errors.New(""))
