package encode

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/pipelog/pipelog/event"
)

// state is what one line's encoding carries from node to node.
type state struct {
	rec    *Record
	p      unsafe.Pointer // the typed event's value, nil for untyped lines
	plan   *plan
	labels labelWriter
	errs   []string
	extra  []byte     // adapters' pre-encoded custom fields (AppendRecord, AppendDynamic)
	dyn    *dynValues // AppendDynamic's fields
}

func appendLevel(dst []byte, l event.Level) []byte {
	switch l {
	case event.LevelDebug:
		return append(dst, `"debug"`...)
	case event.LevelInfo:
		return append(dst, `"info"`...)
	case event.LevelWarn:
		return append(dst, `"warn"`...)
	case event.LevelError:
		return append(dst, `"error"`...)
	}
	return appendString(dst, l.String(), 0)
}

// appendLine writes the line for rec (and the event at p, laid out as
// pl's type) to dst.
func (e *Encoder) appendLine(dst []byte, rec *Record, pl *plan, p unsafe.Pointer, extra []byte) []byte {
	return e.appendLineState(dst, &state{rec: rec, p: p, plan: pl, extra: extra})
}

func (e *Encoder) appendLineDyn(dst []byte, rec *Record, pl *plan, extra []byte, dyn *dynValues) []byte {
	return e.appendLineState(dst, &state{rec: rec, plan: pl, extra: extra, dyn: dyn})
}

func (e *Encoder) appendLineState(dst []byte, st *state) []byte {
	rec, pl := st.rec, st.plan
	dst = append(dst, `{"@timestamp":`...)
	dst = e.appendNow(dst, rec.Time)
	dst = append(dst, `,"log.level":`...)
	dst = appendLevel(dst, rec.Base.Level)
	msg := rec.Base.Message
	if msg == "" && pl.ti != nil {
		msg = pl.ti.name
	}
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, msg, e.max)
	dst = append(dst, `,"ecs.version":"`+Version+`"`...)
	if pl.err != nil {
		st.errs = append(st.errs, pl.err.Error())
	}
	dst = e.run(dst, pl.prog, st)
	return append(dst, '}', '\n')
}

// run executes a plan's program: a flat list of instructions compiled from
// its key tree (see compile), so writing a line is one loop over contiguous
// memory rather than a walk of pointers.
func (e *Encoder) run(dst []byte, prog []instr, st *state) []byte {
	var marks, inner [maxDepth]int
	depth := 0
	for i := 0; i < len(prog); i++ {
		in := &prog[i]
		switch in.op {
		case opOpen:
			if in.cond != condNone && !st.holds(in.cond) {
				i = in.jump - 1 // skip the object: it would write nothing
				continue
			}
			marks[depth] = len(dst)
			dst = append(comma(dst), in.key...)
			inner[depth] = len(dst)
			depth++
		case opClose:
			depth--
			if in.extra && len(st.extra) > 0 {
				dst = append(comma(dst), st.extra...)
			}
			if in.optional && len(dst) == inner[depth] {
				dst = dst[:marks[depth]] // nothing inside: leave the object out
			} else {
				dst = append(dst, '}')
			}
		case opStatic:
			dst = append(comma(dst), in.static...)
		default:
			if in.suffix == nil {
				dst = e.appendLeaf(dst, in, st)
				continue
			}
			before := len(dst)
			if dst = e.appendLeaf(dst, in, st); len(dst) != before {
				dst = append(dst, in.suffix...)
			}
		}
	}
	return dst
}

// holds reports whether the record carries what an object needs.
func (st *state) holds(c cond) bool {
	switch c {
	case condCaller:
		return st.rec.File != ""
	case condErr:
		return st.rec.Base.Err != nil
	}
	return true
}

func (e *Encoder) keyed(dst []byte, n *instr) []byte {
	return append(comma(dst), n.key...)
}

func (e *Encoder) appendLeafString(dst []byte, n *instr, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(e.keyed(dst, n), s, e.max)
}

func (e *Encoder) appendLeaf(dst []byte, n *instr, st *state) []byte {
	r := st.rec
	switch n.op {
	case opEventID:
		return e.appendLeafString(dst, n, r.EventID)
	case opReason:
		return e.appendLeafString(dst, n, r.Base.Reason)
	case opWarning:
		return e.appendLeafString(dst, n, r.Base.Warning)
	case opStatusCode:
		if r.Base.StatusCode == 0 {
			return dst
		}
		return strconv.AppendInt(e.keyed(dst, n), int64(r.Base.StatusCode), 10)
	case opTraceID:
		if r.TraceID != "" {
			return e.appendLeafString(dst, n, r.TraceID)
		}
		return e.appendLeafString(dst, n, r.CorrelationID)
	case opSpanID:
		return e.appendLeafString(dst, n, r.SpanID)
	case opTransaction:
		return e.appendLeafString(dst, n, r.TransactionID)
	case opRequestID:
		return e.appendLeafString(dst, n, r.RequestID)
	case opWorker:
		return e.appendLeafString(dst, n, r.Worker)
	case opThreadID:
		if r.ThreadID <= 0 {
			return dst
		}
		return strconv.AppendInt(e.keyed(dst, n), r.ThreadID, 10)
	case opFile:
		return e.appendLeafString(dst, n, r.File)
	case opLine:
		if r.File == "" || r.Line <= 0 {
			return dst
		}
		return strconv.AppendInt(e.keyed(dst, n), int64(r.Line), 10)
	case opFunction:
		if r.File == "" {
			return dst
		}
		return e.appendLeafString(dst, n, r.Function)
	case opLabels:
		return e.appendLabels(dst, n, st)
	case opErrMessage:
		if r.Base.Err == nil {
			return dst
		}
		return e.appendLeafString(dst, n, e.safeError(r.Base.Err, st))
	case opErrType:
		if r.Base.Err == nil {
			return dst
		}
		return e.appendLeafString(dst, n, errorTypeName(r.Base.Err))
	case opErrStack:
		if r.Base.Err == nil {
			return dst
		}
		return e.appendLeafString(dst, n, stackTrace(r.Base.Err))
	case opDynamic:
		return append(e.keyed(dst, n), st.dyn.fields[n.index].Value...)
	case opField:
		return e.appendField(dst, n.key, n.field, unsafe.Add(st.p, n.field.offset), st)
	case opEncodeErrors:
		if len(st.errs) == 0 {
			return dst
		}
		dst = append(e.keyed(dst, n), '[')
		for i, s := range st.errs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s, e.max)
		}
		return append(dst, ']')
	}
	return dst
}

func (e *Encoder) appendLabels(dst []byte, n *instr, st *state) []byte {
	mark := len(dst)
	dst = append(e.keyed(dst, n), '{')
	inner := len(dst)
	lw := &st.labels
	if st.plan != nil {
		for i := range st.plan.labels {
			f := &st.plan.labels[i]
			s, ok := e.stringOf(f, unsafe.Add(st.p, f.offset), st)
			if ok {
				dst = lw.add(dst, f.ecsPath[len("labels."):], s, e.max)
			}
		}
	}
	for _, l := range st.rec.Labels {
		dst = lw.add(dst, l.Key, l.Value, e.max)
	}
	if c := &st.rec.Correlation; c.CorrelationID != "" && c.TraceID != "" && c.CorrelationID != c.TraceID {
		// trace.id holds the trace; keep the correlation ID searchable too.
		dst = lw.add(dst, "correlation_id", c.CorrelationID, e.max)
	}
	for _, l := range e.labels {
		dst = lw.add(dst, l.Key, l.Value, e.max)
	}
	if len(dst) == inner {
		return dst[:mark]
	}
	return append(dst, '}')
}

// stringOf reads a string-shaped field (labels.* fields).
func (e *Encoder) stringOf(f *field, p unsafe.Pointer, st *state) (string, bool) {
	if f.kind == kString { // the common case: no encoding round trip
		s := *(*string)(p)
		return s, !(f.omitEmpty && s == "")
	}
	var tmp []byte
	tmp = e.appendValue(tmp, f, p, st)
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
func (e *Encoder) appendField(dst []byte, key []byte, f *field, p unsafe.Pointer, st *state) []byte {
	if (f.omitEmpty || f.kind == kTime || f.ecsPath != "" && f.kind == kString) && isEmpty(f, p) {
		return dst
	}
	if f.kind == kPtr && *(*unsafe.Pointer)(p) == nil {
		return dst
	}
	dst = append(comma(dst), key...)
	return e.appendValue(dst, f, p, st)
}

func isEmpty(f *field, p unsafe.Pointer) bool {
	if f.kind == kTime { // the zero time is never a real value: always left out
		return (*time.Time)(p).IsZero()
	}
	if f.ecsPath != "" && f.kind == kString { // an empty ECS string says nothing
		return *(*string)(p) == ""
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
	case kTime:
		return (*time.Time)(p).IsZero()
	case kStringSlice:
		return len(*(*[]string)(p)) == 0
	case kPtr:
		return *(*unsafe.Pointer)(p) == nil
	case kError, kStringer, kAny:
		return *(*[2]unsafe.Pointer)(p) == [2]unsafe.Pointer{} // a nil interface
	}
	return reflect.NewAt(f.typ, p).Elem().IsZero()
}

func (e *Encoder) appendValue(dst []byte, f *field, p unsafe.Pointer, st *state) []byte {
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
	case kInt64, kDuration:
		return strconv.AppendInt(dst, *(*int64)(p), 10)
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
		dst = append(dst, '[')
		for i, s := range *(*[]string)(p) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s, e.max)
		}
		return append(dst, ']')
	case kError:
		err := *(*error)(p)
		if err == nil {
			return append(dst, "null"...)
		}
		return appendString(dst, e.safeError(err, st), e.max)
	case kStringer:
		s := *(*fmt.Stringer)(p)
		if s == nil {
			return append(dst, "null"...)
		}
		return e.appendMethod(dst, f, s, st)
	case kAny:
		v := *(*any)(p)
		if v == nil {
			return append(dst, "null"...)
		}
		return e.appendDynamic(dst, f, v, st)
	case kStruct:
		dst = append(dst, '{')
		for i := range f.sub {
			s := &f.sub[i]
			dst = e.appendField(dst, s.jsonKey, s, unsafe.Add(p, s.offset), st)
		}
		return append(dst, '}')
	case kPtr:
		ptr := *(*unsafe.Pointer)(p)
		if ptr == nil {
			return append(dst, "null"...)
		}
		return e.appendValue(dst, f.elem, ptr, st)
	case kMethod:
		// Copy the value out before calling its methods: p may point into
		// the caller's stack, which nothing may keep a reference to.
		return e.appendMethod(dst, f, reflect.NewAt(f.typ, p).Elem().Interface(), st)
	}
	return e.appendDynamic(dst, f, reflect.NewAt(f.typ, p).Elem().Interface(), st)
}

// appendMethod writes a value through the first of MarshalJSON,
// MarshalText, Error and String it has, recovering a panic.
func (e *Encoder) appendMethod(dst []byte, f *field, v any, st *state) (out []byte) {
	mark := len(dst)
	defer func() {
		if r := recover(); r != nil {
			out = append(dst[:mark], "null"...)
			st.errs = append(st.errs, fmt.Sprintf("%s: %T panicked: %v", f.goName, v, r))
		}
	}()
	switch m := v.(type) {
	case json.Marshaler:
		b, err := m.MarshalJSON()
		if err == nil && !json.Valid(b) {
			err = fmt.Errorf("MarshalJSON returned invalid JSON")
		}
		if err != nil {
			st.errs = append(st.errs, fmt.Sprintf("%s: %v", f.goName, err))
			return append(dst, "null"...)
		}
		return appendCompact(dst, b)
	case encoding.TextMarshaler:
		b, err := m.MarshalText()
		if err != nil {
			st.errs = append(st.errs, fmt.Sprintf("%s: %v", f.goName, err))
			return append(dst, "null"...)
		}
		return appendString(dst, string(b), e.max)
	case error:
		return appendString(dst, m.Error(), e.max)
	case fmt.Stringer:
		return appendString(dst, m.String(), e.max)
	}
	// A pointer-receiver method: call it on a heap copy.
	pv := reflect.New(reflect.TypeOf(v))
	pv.Elem().Set(reflect.ValueOf(v))
	return e.appendMethod(dst[:mark], f, pv.Interface(), st)
}

// appendDynamic writes a value whose type is known only at run time.
func (e *Encoder) appendDynamic(dst []byte, f *field, v any, st *state) []byte {
	switch x := v.(type) {
	case string:
		return appendString(dst, x, e.max)
	case bool:
		return strconv.AppendBool(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return appendFloat(dst, x, 64)
	case time.Time:
		return appendTimestamp(dst, x)
	case time.Duration:
		return strconv.AppendInt(dst, int64(x), 10)
	case json.Marshaler, encoding.TextMarshaler, error, fmt.Stringer:
		return e.appendMethod(dst, f, x, st)
	}
	return e.appendReflect(dst, f, v, st)
}

// appendReflect is the slow path: encoding/json, with panics recovered and
// floats it cannot encode (NaN, ±Inf) reported instead of losing the line.
func (e *Encoder) appendReflect(dst []byte, f *field, v any, st *state) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = append(dst, "null"...)
			st.errs = append(st.errs, fmt.Sprintf("%s: %T panicked: %v", f.goName, v, r))
		}
	}()
	b, err := json.Marshal(v)
	if err != nil {
		st.errs = append(st.errs, fmt.Sprintf("%s: %v", f.goName, err))
		return append(dst, "null"...)
	}
	return appendCompact(dst, b)
}

// appendCompact appends JSON that is known valid, re-encoding its strings
// so invalid UTF-8 cannot slip through a MarshalJSON method.
func appendCompact(dst, b []byte) []byte {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return append(dst, "null"...)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, out...)
}

// safeError calls err.Error(), recovering a panic.
func (e *Encoder) safeError(err error, st *state) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%T (its Error method panicked)", err)
			st.errs = append(st.errs, fmt.Sprintf("error: %T panicked: %v", err, r))
		}
	}()
	return err.Error()
}
