package encode

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Attrs collects the fields of one adapter line (slog, zap) in the order
// they are added and sorts them into the three places AppendDynamic takes:
// ECS fields (Fields), labels (Labels) and custom members (AppendCustom).
//
// Rules, the same for every adapter:
//
//   - The full path of a value is the open groups and its key, joined with
//     dots. A path that Placement accepts with the value's shape goes on its
//     ECS field if the value is valid for the field's ECS type (an ip is an
//     address, an integer within its type's range, a geo_point a point,
//     object_type keyword members strings: see fitsOne); one that is not
//     is a custom member, noted. "labels.<key>" with a string value becomes
//     a label; anything else is a custom member.
//   - A unit (OpenUnit: an object given as a value) is placed whole: on ECS
//     fields when every member goes on one, else every member is a custom
//     member, noted.
//   - Custom members form a tree: groups are objects, and a dotted key is
//     split into nested objects ("a.b" is {"a":{"b":…}}), which is how
//     Elasticsearch reads dotted names anyway. An empty key segment becomes
//     "_" (the spec forbids empty keys).
//   - No key is ever written twice. A later value replaces an earlier one at
//     the same full path, wherever each was written (an ECS field replaces a
//     custom member at its path and the other way round); two groups with
//     the same name merge; a value and a group at the same path: the later
//     wins. Labels: the later value of a key wins.
//   - Empty groups are not written.
//   - What could not be written as given (a panicking method, a value too
//     deep, a value that does not fit its ECS field) is noted, by its path
//     under Pipelog.Attrs; AppendAttrs writes the notes first in
//     Pipelog.encode_errors.
//
// Call Reset (or ResetCustom, or CopyFrom) before the first use. An Attrs
// is not safe for concurrent use. Adapters keep one per derived
// logger, frozen (never added to after it is shared), and copy it into a
// pooled one per line with CopyFrom.
type Attrs struct {
	enc      *Encoder
	fx       *Fixed // the Logger's fixed fields: their paths stay custom members
	nodes    []attrNode
	buf      []byte // encoded values of the custom tree and of ECS fields
	placed   []placedField
	labels   []Label
	stack    []attrFrame // open groups
	cur      int32       // node of the innermost open group; -1: the root
	root     int32       // first child of the root, -1 if none
	rootLast int32
	rootKeys uint64 // keyBit of every key linked at the root: most keys are new
	prefix   []byte // full dotted path of the innermost open group
	probs    []string
	units    []unitFrame // open units (OpenUnit)
	seq      int32       // counts values added, to tell a unit's own from earlier ones

	fields    []DynamicField // scratch for Fields
	labelsOut []Label        // scratch for Labels
	custom    bool           // every value is a custom member (ResetCustom)
	dyn       dynValues      // AppendAttrs's, kept here so that it is not allocated per line

	// The last plan AppendAttrs used, by encoder and paths: a pooled Attrs
	// usually meets the same fields line after line, and reusing the plan
	// skips the encoder's shared cache (and its lock) entirely.
	planEnc *Encoder
	planSh  *Shape
	plan    *plan
	planKey []byte
	keyBuf  []byte
}

type attrFrame struct {
	cur    int32
	prefix int32 // len(prefix) before the group was opened
}

// unitFrame is an open unit: its group, the group depth to close back to,
// and the seq of its first value.
type unitFrame struct {
	group int32
	depth int
	seq   int32
}

type attrNode struct {
	key         string
	parent      int32
	first, last int32 // children, for groups
	next        int32 // next sibling
	start, end  int32 // value in buf, for leaves
	group       bool
	dead        bool
	plain       bool  // key needs no escaping (simpleKey)
	seq         int32 // when the value was added (Attrs.seq)
}

type placedField struct {
	path       string
	start, end int32
	shape      string
	seq        int32 // when the value was added (Attrs.seq)
}

// Reset empties a and binds it to e.
func (a *Attrs) Reset(e *Encoder, fx *Fixed) {
	a.enc, a.fx = e, fx
	a.nodes = a.nodes[:0]
	a.buf = a.buf[:0]
	a.placed = a.placed[:0]
	a.labels = a.labels[:0]
	a.stack = a.stack[:0]
	a.cur, a.root, a.rootLast, a.rootKeys = -1, -1, -1, 0
	a.prefix = a.prefix[:0]
	a.probs = a.probs[:0]
	a.units = a.units[:0]
	a.seq = 0
	a.custom = false
}

// ResetCustom empties a for a free-form object, an element of an array say:
// nothing goes on ECS fields or labels, everything is a custom member.
func (a *Attrs) ResetCustom(e *Encoder) {
	a.Reset(e, nil)
	a.custom = true
}

// Encoder returns the Encoder a is bound to.
func (a *Attrs) Encoder() *Encoder { return a.enc }

// AddProblem records a value that could not be encoded as it is.
func (a *Attrs) AddProblem(p string) { a.probs = append(a.probs, p) }

// AddProblemAt records what went wrong with the value of key, at the path
// the value has among the custom members.
func (a *Attrs) AddProblemAt(key, what string) { a.probs = append(a.probs, a.notePath(key)+": "+what) }

// CopyFrom makes a a copy of src, reusing a's memory: open groups stay open.
func (a *Attrs) CopyFrom(src *Attrs) {
	a.enc, a.fx = src.enc, src.fx
	a.nodes = append(a.nodes[:0], src.nodes...)
	a.buf = append(a.buf[:0], src.buf...)
	a.placed = append(a.placed[:0], src.placed...)
	a.labels = append(a.labels[:0], src.labels...)
	a.stack = append(a.stack[:0], src.stack...)
	a.cur, a.root, a.rootLast, a.rootKeys = src.cur, src.root, src.rootLast, src.rootKeys
	a.prefix = append(a.prefix[:0], src.prefix...)
	a.probs = append(a.probs[:0], src.probs...)
	a.units = append(a.units[:0], src.units...)
	a.seq = src.seq
	a.custom = src.custom
}

// Clone returns a copy of a that shares nothing with it.
func (a *Attrs) Clone() *Attrs {
	c := &Attrs{}
	c.CopyFrom(a)
	return c
}

// Depth is the number of open groups.
func (a *Attrs) Depth() int { return len(a.stack) }

// OpenGroup opens the group key: what is added next goes inside it, until
// CloseGroup. A dotted key opens nested groups that one CloseGroup closes.
// A group that already exists at that path is reopened (groups merge).
func (a *Attrs) OpenGroup(key string) {
	a.stack = append(a.stack, attrFrame{cur: a.cur, prefix: int32(len(a.prefix))})
	if len(a.prefix) > 0 {
		a.prefix = append(a.prefix, '.')
	}
	a.prefix = append(a.prefix, key...)
	for {
		seg, rest, more := strings.Cut(key, ".")
		a.cur = a.group(a.cur, seg)
		if !more {
			return
		}
		key = rest
	}
}

// CloseGroup closes the innermost open group; with none open it does nothing.
func (a *Attrs) CloseGroup() {
	n := len(a.stack)
	if n == 0 {
		return
	}
	f := a.stack[n-1]
	a.stack = a.stack[:n-1]
	a.cur = f.cur
	a.prefix = a.prefix[:f.prefix]
}

// AddString adds a string value.
func (a *Attrs) AddString(key, s string) {
	if a.label(key, s) {
		return
	}
	start := len(a.buf)
	a.buf = appendString(a.buf, s, a.enc.max)
	a.add(key, start, ShapeString)
}

// AddInt adds an integer.
func (a *Attrs) AddInt(key string, v int64) {
	start := len(a.buf)
	a.buf = strconv.AppendInt(a.buf, v, 10)
	a.add(key, start, ShapeInteger)
}

// AddUint adds an unsigned integer.
func (a *Attrs) AddUint(key string, v uint64) {
	start := len(a.buf)
	a.buf = strconv.AppendUint(a.buf, v, 10)
	a.add(key, start, ShapeInteger)
}

// AddFloat adds a float with the given bit size (32 or 64); NaN and ±Inf
// become null.
func (a *Attrs) AddFloat(key string, v float64, bits int) {
	start := len(a.buf)
	a.buf = appendFloat(a.buf, v, bits)
	a.add(key, start, ShapeNumber)
}

// AddBool adds a boolean.
func (a *Attrs) AddBool(key string, v bool) {
	start := len(a.buf)
	a.buf = strconv.AppendBool(a.buf, v)
	a.add(key, start, ShapeBool)
}

// AddTime adds a time, as an RFC 3339 UTC string (ECS date).
func (a *Attrs) AddTime(key string, t time.Time) {
	start := len(a.buf)
	a.buf = appendTimestamp(a.buf, t)
	a.add(key, start, ShapeDate)
}

// AddDuration adds a duration in nanoseconds, the unit of ECS durations
// (event.duration).
func (a *Attrs) AddDuration(key string, d time.Duration) {
	start := len(a.buf)
	a.buf = strconv.AppendInt(a.buf, int64(d), 10)
	a.add(key, start, "duration")
}

// AddAny adds a value of any type, encoded the way a typed event's field of
// type any is (the generic value encoder: MarshalJSON, MarshalText, Error,
// String, the key rule, UTC times, the depth limit), panics recovered.
// Problems are kept for Problems.
func (a *Attrs) AddAny(key string, v any) {
	start := len(a.buf)
	if v == nil {
		a.buf = append(a.buf, "null"...)
	} else {
		st := state{errs: a.probs}
		w := &walker{e: a.enc, path: a.appendNotePath(make([]byte, 0, len("Pipelog.Attrs.")+len(a.prefix)+len(key)+32), key)}
		a.buf = w.value(a.buf, w.resolve(reflect.ValueOf(v)), 0)
		w.done(&st)
		a.probs = st.errs
	}
	a.add(key, start, ShapeOf(a.buf[start:]))
}

// AddError adds err's message, as slog and zap write an error that is not
// the line's own: guarded, a typed nil whose Error panics is "<nil>", with a
// note. An error with a MarshalJSON method is written by it (AddAny).
func (a *Attrs) AddError(key string, err error) {
	if _, ok := err.(json.Marshaler); ok {
		a.AddAny(key, err)
		return
	}
	var st state
	msg := a.enc.errorMessage(err, &st)
	for _, n := range st.errs {
		a.probs = append(a.probs, a.notePath(key)+strings.TrimPrefix(n, "error")) // "error: …" → "<path>: …"
	}
	a.AddString(key, msg)
}

// notePath is where key's value is written among the custom members, for
// notes: Pipelog.Attrs.<open groups>.<key>.
func (a *Attrs) notePath(key string) string {
	return string(a.appendNotePath(nil, key))
}

func (a *Attrs) appendNotePath(dst []byte, key string) []byte {
	dst = append(dst, "Pipelog.Attrs."...)
	if len(a.prefix) > 0 {
		dst = append(append(dst, a.prefix...), '.')
	}
	return append(dst, key...)
}

// AddRaw adds value, one valid JSON value written as is, with its shape
// (ShapeOf tells it). The caller's encoder escaped it and its object keys
// follow the key rule already (zap's arrays: their objects are Attrs,
// their other values the generic value encoder's).
func (a *Attrs) AddRaw(key string, value []byte, shape string) {
	start := len(a.buf)
	a.buf = append(a.buf, value...)
	a.add(key, start, shape)
}

// Problems lists the values that could not be encoded as they are.
func (a *Attrs) Problems() []string { return a.probs }

// Fields returns the ECS fields, ready for AppendDynamic. The slice and the
// values in it are valid until a is next changed.
func (a *Attrs) Fields() []DynamicField {
	a.fields = a.fields[:0]
	for _, p := range a.placed {
		a.fields = append(a.fields, DynamicField{Path: p.path, Value: a.buf[p.start:p.end], Shape: p.shape})
	}
	return a.fields
}

// Labels returns the labels.<key> values, followed by more (a context's
// labels, say): the encoder keeps the first of a key, so these win.
func (a *Attrs) Labels(more []Label) []Label {
	if len(a.labels) == 0 {
		return more
	}
	a.labelsOut = append(append(a.labelsOut[:0], a.labels...), more...)
	return a.labelsOut
}
