package encode

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/pipelog/pipelog/event"
)

// input is what one line is made from. It is only ever read while the line
// is encoded, and kept apart from state, which is written: a store into a
// struct makes escape analysis treat everything that struct points to as
// escaping, and the event and record that input points to must stay on the
// caller's stack.
type input struct {
	rec   *Record
	fx    *Fixed
	p     unsafe.Pointer // the typed event's value, nil for untyped lines
	plan  *plan
	extra []byte     // adapters' pre-encoded custom fields (AppendRecord, AppendDynamic)
	dyn   *dynValues // AppendDynamic's fields
	has   need       // what rec carries (Encoder.needs)

	nilEvent bool // a nil pointer was emitted: its type's zero value is written
}

// state is what one line's encoding writes as it goes, and box: the heap
// copy of the event for the fields read by reflection (see AppendEvent).
// box may escape, so it lives here, never next to input.p.
type state struct {
	box    unsafe.Pointer
	labels labelWriter
	errs   []string
	moved  uint64   // ip fields whose value was not an address, by slot (see moveIP)
	limit  int      // > 0: values stop growing the line past this length (see MaxLineBytes)
	ei     *errInfo // the line's error's type, once looked up
}

// over reports whether dst has grown past the line's bound: arrays and
// objects then stop adding members (and say so).
func (st *state) over(dst []byte) bool { return st.limit > 0 && len(dst) > st.limit }

// appendLevelKeys writes `,"log.level":<level>,"message":`, one copy for
// the named levels; name, when set, is written instead of l's name.
func appendLevelKeys(dst []byte, l event.Level, name string) []byte {
	if name != "" {
		dst = append(dst, `,"log.level":`...)
		dst = appendString(dst, name, 0)
		return append(dst, `,"message":`...)
	}
	switch l {
	case event.LevelDebug:
		return append(dst, `,"log.level":"debug","message":`...)
	case event.LevelInfo:
		return append(dst, `,"log.level":"info","message":`...)
	case event.LevelWarn:
		return append(dst, `,"log.level":"warn","message":`...)
	case event.LevelError:
		return append(dst, `,"log.level":"error","message":`...)
	}
	dst = append(dst, `,"log.level":`...)
	dst = appendString(dst, l.String(), 0)
	return append(dst, `,"message":`...)
}

// appendLine writes the line for rec (and the event at p, laid out as
// pl's type) to dst.
func (e *Encoder) appendLine(dst []byte, fx *Fixed, rec *Record, pl *plan, p, box unsafe.Pointer, extra []byte) []byte {
	return e.appendInput(dst, &input{rec: rec, fx: fx, p: p, plan: pl, extra: extra}, pl, box, nil)
}

// appendLineDyn writes an adapter's line: dyn its ECS fields, extra its
// custom members, notes what its values' encoding found (they open
// Pipelog.encode_errors).
func (e *Encoder) appendLineDyn(dst []byte, fx *Fixed, rec *Record, pl *plan, extra []byte, dyn *dynValues, notes []string) []byte {
	return e.appendInput(dst, &input{rec: rec, fx: fx, plan: pl, extra: extra, dyn: dyn}, pl, nil, notes)
}

// appendInput writes the line. pl is in.plan, passed on its own: choosing
// its program may compile one, which escape analysis sees as pl escaping,
// and nothing loaded from in may escape (see input). notes, the adapters'
// encode_errors, are a parameter for the same reason.
func (e *Encoder) appendInput(dst []byte, in *input, pl *plan, box unsafe.Pointer, notes []string) []byte {
	start := len(dst)
	dst = e.encodeInput(dst, in, pl, box, 0, "", notes)
	if e.line > 0 && len(dst)-start > e.line {
		dst = e.rebound(dst, start, in, pl, box, notes)
	}
	return dst
}

// rebound writes again, at start, a line that came out longer than
// MaxLineBytes: with strings cut shorter and arrays and objects cut once
// the line reaches half the bound; if that is still too long (many long
// fields, an adapter's pre-encoded members), with only the base fields.
// Either way a note says what happened.
func (e *Encoder) rebound(dst []byte, start int, in *input, pl *plan, box unsafe.Pointer, notes []string) []byte {
	n := len(dst) - start
	c := e.cutEncoder()
	note := fmt.Sprintf("the line was %d bytes, over the bound of %d (MaxLineBytes): written again with values cut", n, e.line)
	dst = c.encodeInput(dst[:start], in, pl, box, start+e.line/2, note, notes)
	if len(dst)-start <= e.line {
		return dst
	}
	name := ""
	if pl.ti != nil {
		name = pl.ti.name
	}
	note = fmt.Sprintf("the line was %d bytes, over the bound of %d (MaxLineBytes), even with values cut: only the base fields were written", n, e.line)
	return c.appendBase(dst[:start], in.rec.Time, in.rec, name, note)
}

// cutEncoder is e with strings cut at a sixteenth of the line bound, for
// rebound. It runs e's plans (which hold nothing of the string bound).
func (e *Encoder) cutEncoder() *Encoder {
	if c := e.cutEnc.Load(); c != nil {
		return c
	}
	e.cutMu.Lock()
	defer e.cutMu.Unlock()
	if c := e.cutEnc.Load(); c != nil {
		return c
	}
	cfg := e.cfg
	cfg.MaxStringBytes = max(256, min(e.max, e.line/16))
	cfg.MaxLineBytes = -1
	if e.max <= 0 {
		cfg.MaxStringBytes = max(256, e.line/16)
	}
	c := NewEncoder(cfg)
	e.cutEnc.Store(c)
	return c
}

// encodeInput is appendInput's one pass: limit (> 0) is where values stop
// growing the line, note and notes the first encode_errors entries.
func (e *Encoder) encodeInput(dst []byte, in *input, pl *plan, box unsafe.Pointer, limit int, note string, notes []string) []byte {
	st := state{box: box, limit: limit}
	if note != "" {
		st.errs = append(st.errs, note)
	}
	if len(notes) > 0 {
		st.errs = append(st.errs, notes...)
	}
	in.has = e.needs(in)
	rec := in.rec
	dst = append(dst, `{"@timestamp":`...)
	dst = e.appendNow(dst, rec.Time)
	dst = appendLevelKeys(dst, rec.Base.Level, rec.LevelName)
	msg := rec.Base.Message
	if msg == "" && pl.ti != nil {
		msg = pl.ti.name
	}
	dst = appendString(dst, msg, e.max)
	// ecs.version, the fourth key, is the first fixed bytes of every plan
	// (see finish), written with the fixed fields that follow it.
	if pl.err != nil {
		st.errs = append(st.errs, pl.err.Error())
	}
	if in.nilEvent {
		st.errs = append(st.errs, "a nil *"+pl.ti.name+" was emitted")
	}
	dst = e.run(dst, pl.progFor(in.has), in, &st)
	return append(dst, '}', '\n')
}

func (e *Encoder) appendLabels(dst []byte, n *step, in *input, st *state) []byte {
	c := &in.rec.Correlation
	if len(in.plan.labels) == 0 && len(c.Labels) == 0 && len(in.fx.labelsOf()) == 0 &&
		(c.CorrelationID == "" || c.TraceID == "" || c.CorrelationID == c.TraceID) {
		return dst // the common case: no labels at all
	}
	mark := len(dst)
	dst = append(keyed(dst, n), '{')
	inner := len(dst)
	lw := &st.labels
	if in.plan != nil {
		for i := range in.plan.labels {
			f := &in.plan.labels[i]
			s, ok := e.stringOf(f, unsafe.Add(in.p, f.offset), offsetOf(st.box, f.offset), st)
			if ok && s != "" { // an empty label says nothing, as an empty ECS string
				dst = lw.add(dst, f.ecsPath[len("labels."):], s, e.max)
			}
		}
	}
	for _, l := range in.rec.Labels {
		dst = lw.add(dst, l.Key, l.Value, e.max)
	}
	if c := &in.rec.Correlation; c.CorrelationID != "" && c.TraceID != "" && c.CorrelationID != c.TraceID {
		// trace.id holds the trace; keep the correlation ID searchable too.
		dst = lw.add(dst, "correlation_id", c.CorrelationID, e.max)
	}
	for _, l := range in.fx.labelsOf() {
		dst = lw.add(dst, l.Key, l.Value, e.max)
	}
	if len(dst) == inner {
		return dst[:mark]
	}
	return append(dst, '}')
}

// offsetOf is box+off, or nil when there is no box.
func offsetOf(box unsafe.Pointer, off uintptr) unsafe.Pointer {
	if box == nil {
		return nil
	}
	return unsafe.Add(box, off)
}

// stringOf reads a string-shaped field (labels.* fields).
func (e *Encoder) stringOf(f *field, p, box unsafe.Pointer, st *state) (string, bool) {
	if f.kind == kString { // the common case: no encoding round trip
		s := *(*string)(p)
		return s, !(f.omitEmpty && s == "")
	}
	var tmp []byte
	tmp = e.appendValue(tmp, f, p, box, st)
	if len(tmp) < 2 || tmp[0] != '"' {
		return "", false
	}
	s, err := strconv.Unquote(string(tmp))
	if err != nil {
		return "", false
	}
	return s, !(f.omitEmpty && s == "")
}

// appendField writes key and value, or nothing when the field is omitted
// (omitempty and empty, or a nil pointer).
//
// p points to the field's value and is only read: it may point into the
// caller's stack (Emit reads the event in place). box, when not nil, points
// to the same field in a heap copy of the event: reflection and the value's
// own methods get that one, since they may keep what they are given (see
// AppendEvent). For a field behind a pointer, both are that pointer.
func (e *Encoder) appendField(dst []byte, key []byte, f *field, p, box unsafe.Pointer, st *state) []byte {
	if (f.omitEmpty || f.kind == kTime || f.kind == kIP || f.kind == kAddr || f.ecsPath != "" && f.kind == kString) && isEmpty(f, p, box) {
		return dst
	}
	if f.kind == kPtr && *(*unsafe.Pointer)(p) == nil {
		return dst
	}
	if slowKind(f.kind) {
		// Resolved before the key is written: what resolves to nothing (a
		// nil interface, a zero time inside one, a failed method) is left
		// out, as a nil pointer is.
		w := e.newWalker(st, f.notePath())
		r := w.resolve(e.reflectField(f, p, box, st))
		if r.IsValid() {
			dst = w.value(append(comma(dst), key...), r, 0)
		}
		w.done(st)
		return dst
	}
	dst = append(comma(dst), key...)
	return e.appendValue(dst, f, p, box, st)
}

func isEmpty(f *field, p, box unsafe.Pointer) bool {
	switch f.kind {
	case kTime: // the zero time is never a real value: always left out
		return (*time.Time)(p).IsZero()
	case kIP: // nor is an empty or malformed address
		_, ok := netip.AddrFromSlice(*(*net.IP)(p))
		return !ok
	case kAddr:
		return !(*netip.Addr)(p).IsValid()
	}
	switch f.kind {
	case kString:
		return *(*string)(p) == ""
	case kBool:
		return !*(*bool)(p)
	case kInt:
		return *(*int)(p) == 0
	case kInt64, kDuration:
		return *(*int64)(p) == 0
	case kInt8:
		return *(*int8)(p) == 0
	case kInt16:
		return *(*int16)(p) == 0
	case kInt32:
		return *(*int32)(p) == 0
	case kUint:
		return *(*uint)(p) == 0
	case kUint64:
		return *(*uint64)(p) == 0
	case kUintptr:
		return *(*uintptr)(p) == 0
	case kUint8:
		return *(*uint8)(p) == 0
	case kUint16:
		return *(*uint16)(p) == 0
	case kUint32:
		return *(*uint32)(p) == 0
	case kFloat32:
		return *(*float32)(p) == 0
	case kFloat64:
		return *(*float64)(p) == 0
	case kStringSlice:
		return len(*(*[]string)(p)) == 0
	case kPtr:
		return *(*unsafe.Pointer)(p) == nil
	case kError:
		return *(*error)(p) == nil
	case kStringer:
		return *(*fmt.Stringer)(p) == nil
	case kAny:
		return *(*any)(p) == nil
	}
	if box == nil {
		return false // unreachable: such types get a box (typeInfo.needsBox)
	}
	return reflect.NewAt(f.typ, box).Elem().IsZero()
}

func (e *Encoder) appendValue(dst []byte, f *field, p, box unsafe.Pointer, st *state) []byte {
	switch f.kind {
	case kString:
		return appendString(dst, *(*string)(p), e.max)
	case kBool:
		return strconv.AppendBool(dst, *(*bool)(p))
	case kInt:
		return strconv.AppendInt(dst, int64(*(*int)(p)), 10)
	case kInt8:
		return strconv.AppendInt(dst, int64(*(*int8)(p)), 10)
	case kInt16:
		return strconv.AppendInt(dst, int64(*(*int16)(p)), 10)
	case kInt32:
		return strconv.AppendInt(dst, int64(*(*int32)(p)), 10)
	case kInt64:
		return strconv.AppendInt(dst, *(*int64)(p), 10)
	case kDuration:
		d := *(*time.Duration)(p)
		if f.seconds {
			return strconv.AppendInt(dst, int64(d/time.Second), 10)
		}
		return strconv.AppendInt(dst, int64(d), 10)
	case kIP:
		a, _ := netip.AddrFromSlice(*(*net.IP)(p))
		return appendAddr(dst, a)
	case kAddr:
		return appendAddr(dst, *(*netip.Addr)(p))
	case kUint:
		return strconv.AppendUint(dst, uint64(*(*uint)(p)), 10)
	case kUint8:
		return strconv.AppendUint(dst, uint64(*(*uint8)(p)), 10)
	case kUint16:
		return strconv.AppendUint(dst, uint64(*(*uint16)(p)), 10)
	case kUint32:
		return strconv.AppendUint(dst, uint64(*(*uint32)(p)), 10)
	case kUint64:
		return strconv.AppendUint(dst, *(*uint64)(p), 10)
	case kUintptr:
		return strconv.AppendUint(dst, uint64(*(*uintptr)(p)), 10)
	case kFloat32:
		return appendFloat(dst, float64(*(*float32)(p)), 32)
	case kFloat64:
		return appendFloat(dst, *(*float64)(p), 64)
	case kTime:
		return appendTimestamp(dst, *(*time.Time)(p))
	case kStringSlice:
		return e.appendStrings(dst, f, *(*[]string)(p), st)
	case kError:
		err := *(*error)(p)
		if err == nil {
			return append(dst, "null"...)
		}
		return appendString(dst, e.errorMessage(err, st), e.max)
	case kStruct:
		dst = append(dst, '{')
		for i := range f.sub {
			s := &f.sub[i]
			dst = e.appendField(dst, s.jsonKey, s, unsafe.Add(p, s.offset), offsetOf(box, s.offset), st)
		}
		return append(dst, '}')
	case kPtr:
		ptr := *(*unsafe.Pointer)(p)
		if ptr == nil {
			return append(dst, "null"...)
		}
		// What a pointer field points to is not the event's own memory:
		// reflection may read it directly.
		return e.appendValue(dst, f.elem, ptr, ptr, st)
	}
	// kMethod, kReflect: reflection on the heap copy.
	w := e.newWalker(st, f.notePath())
	dst = w.value(dst, w.resolve(e.reflectField(f, p, box, st)), 0)
	w.done(st)
	return dst
}

// reflectField is the field at p (box: its heap copy, see appendField) as
// a reflect.Value, for the generic value encoder.
func (e *Encoder) reflectField(f *field, p, box unsafe.Pointer, st *state) reflect.Value {
	switch f.kind {
	case kAny:
		return reflect.ValueOf(*(*any)(p))
	case kStringer:
		return reflect.ValueOf(*(*fmt.Stringer)(p))
	}
	if box == nil {
		st.errs = append(st.errs, f.goName+": internal error: no copy of the event to read it from")
		return reflect.Value{}
	}
	return reflect.NewAt(f.typ, box).Elem()
}

// slowKind reports the kinds the generic value encoder writes.
func slowKind(k kind) bool { return k == kAny || k == kStringer || k == kMethod || k == kReflect }

// notePath is the path notes about f name: its output path.
func (f *field) notePath() string {
	if f.path != "" {
		return f.path
	}
	return f.goName
}

// appendStrings writes a []string field, cut (and noted) when the line
// reaches its bound.
func (e *Encoder) appendStrings(dst []byte, f *field, v []string, st *state) []byte {
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			if st.over(dst) {
				st.errs = append(st.errs, fmt.Sprintf("%s: cut after %d of %d elements to keep the line within its bound", f.notePath(), i, len(v)))
				break
			}
			dst = append(dst, ',')
		}
		dst = appendString(dst, s, e.max)
	}
	return append(dst, ']')
}

// appendAddr writes an address as a JSON string; an IPv4 address in IPv6
// form (as net.IP holds it) is written in IPv4 form, as net.IP.String does.
// The zero Addr is written "" (callers leave it out before).
func appendAddr(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(dst, `""`...)
	}
	dst = append(dst, '"')
	dst = a.Unmap().AppendTo(dst)
	return append(dst, '"')
}

// appendDynamic writes v, a value whose type is known only at run time,
// with the generic value encoder (value.go); f names it in notes.
func (e *Encoder) appendDynamic(dst []byte, f *field, v any, st *state) []byte {
	w := e.newWalker(st, f.notePath())
	dst = w.value(dst, w.resolve(reflect.ValueOf(v)), 0)
	w.done(st)
	return dst
}
