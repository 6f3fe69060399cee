package encode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Attrs collects the fields of one adapter line (slog, zap) in the order
// they are added and sorts them into the three places AppendDynamic takes:
// ECS fields (Fields), labels (Labels) and custom members (AppendCustom).
//
// Rules, the same for every adapter:
//
//   - The full path of a value is the open groups and its key, joined with
//     dots. A path that Placement accepts with the value's shape goes on its
//     ECS field; "labels.<key>" with a string value becomes a label; anything
//     else is a custom member.
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
	a.cur, a.root, a.rootLast = -1, -1, -1
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
	a.cur, a.root, a.rootLast = src.cur, src.root, src.rootLast
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

// OpenUnit opens the group key as one unit, an object given as a value
// (zap.Object, a slog.Group attribute), until CloseUnit: its members go on
// ECS fields only if every one of them does; if any is a custom member,
// CloseUnit moves the others there too, with a note, so that the object is
// never split between ECS and Pipelog.Attrs (user.name on ECS and
// Pipelog.Attrs.user.id). A group opened with OpenGroup is open-ended
// (slog's WithGroup, zap's Namespace): each of its members is placed on its
// own.
func (a *Attrs) OpenUnit(key string) {
	depth := len(a.stack)
	a.OpenGroup(key)
	a.units = append(a.units, unitFrame{group: a.cur, depth: depth, seq: a.seq + 1})
}

// CloseUnit closes the innermost unit, and the groups opened inside it.
func (a *Attrs) CloseUnit() {
	n := len(a.units)
	if n == 0 {
		return
	}
	u := a.units[n-1]
	a.units = a.units[:n-1]
	split := u.group >= 0 && !a.custom && a.placedSince(u.seq) && a.liveSince(a.nodes[u.group].first, u.seq)
	path := ""
	if split {
		path = string(a.prefixAt(u.depth + 1))
	}
	for len(a.stack) > u.depth {
		a.CloseGroup()
	}
	if !split {
		return // all on ECS fields, or all custom
	}
	moved := 0
	for i := 0; i < len(a.placed); {
		p := a.placed[i]
		if p.seq < u.seq {
			i++
			continue
		}
		copy(a.placed[i:], a.placed[i+1:])
		a.placed = a.placed[:len(a.placed)-1]
		a.customAt(p.path, p.start, p.end)
		moved++
	}
	a.probs = append(a.probs, fmt.Sprintf("Pipelog.Attrs.%s: not every member of this object fits an ECS field, so all of it is written here (%d moved from ECS fields)", path, moved))
}

// CloseUnitsTo closes the units and groups opened at or below group depth
// depth (Depth), innermost first: after a panic, say, what was open when
// it began is open again, and nothing more.
func (a *Attrs) CloseUnitsTo(depth int) {
	for n := len(a.units); n > 0 && a.units[n-1].depth >= depth; n = len(a.units) {
		a.CloseUnit()
	}
	for len(a.stack) > depth {
		a.CloseGroup()
	}
}

// prefixAt is the full path of the group opened at stack depth d (1: the
// outermost open group).
func (a *Attrs) prefixAt(d int) []byte {
	if d >= len(a.stack) {
		return a.prefix
	}
	return a.prefix[:a.stack[d].prefix]
}

// placedSince reports an ECS field added at or after seq.
func (a *Attrs) placedSince(seq int32) bool {
	for i := range a.placed {
		if a.placed[i].seq >= seq {
			return true
		}
	}
	return false
}

// liveSince reports a live custom value added at or after seq among the
// nodes from i on and below them.
func (a *Attrs) liveSince(i int32, seq int32) bool {
	for ; i >= 0; i = a.nodes[i].next {
		n := &a.nodes[i]
		if n.dead {
			continue
		}
		if n.group {
			if a.liveSince(n.first, seq) {
				return true
			}
		} else if n.seq >= seq {
			return true
		}
	}
	return false
}

// customAt files the value buf[start:end] as the custom member at the full
// path path.
func (a *Attrs) customAt(path string, start, end int32) {
	parent := int32(-1)
	for {
		seg, rest, more := strings.Cut(path, ".")
		if !more {
			a.leaf(parent, seg, start, end)
			return
		}
		parent = a.group(parent, seg)
		path = rest
	}
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
		w := a.enc.newWalker(&st, a.notePath(key))
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
	if len(a.prefix) == 0 {
		return "Pipelog.Attrs." + key
	}
	return "Pipelog.Attrs." + string(a.prefix) + "." + key
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

// AppendCustom appends `"name":{…}` holding the custom members, or nothing
// when there are none (empty groups are left out).
func (a *Attrs) AppendCustom(dst []byte, name string) []byte {
	if a.root < 0 {
		return dst
	}
	mark := len(dst)
	dst = appendKey(dst, name)
	dst = append(dst, '{')
	inner := len(dst)
	dst = a.appendKids(dst, a.root)
	if len(dst) == inner {
		return dst[:mark]
	}
	return append(dst, '}')
}

// AppendObject appends the custom members as one JSON object, "{}" when
// there are none.
func (a *Attrs) AppendObject(dst []byte) []byte {
	dst = append(dst, '{')
	dst = a.appendKids(dst, a.root)
	return append(dst, '}')
}

func (a *Attrs) appendKids(dst []byte, i int32) []byte {
	for ; i >= 0; i = a.nodes[i].next {
		n := &a.nodes[i]
		if n.dead {
			continue
		}
		if !n.group {
			dst = a.appendNodeKey(comma(dst), n)
			dst = append(dst, a.buf[n.start:n.end]...)
			continue
		}
		mark := len(dst)
		dst = a.appendNodeKey(comma(dst), n)
		dst = append(dst, '{')
		inner := len(dst)
		dst = a.appendKids(dst, n.first)
		if len(dst) == inner {
			dst = dst[:mark]
			continue
		}
		dst = append(dst, '}')
	}
	return dst
}

func (a *Attrs) appendNodeKey(dst []byte, n *attrNode) []byte {
	if n.plain {
		dst = append(dst, '"')
		dst = append(dst, n.key...)
		return append(dst, '"', ':')
	}
	return appendKey(dst, n.key)
}

// simpleKey reports a key that is written as is and split nowhere:
// non-empty printable ASCII without '.', '"' and '\\'.
func simpleKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e || c == '.' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// label takes a string whose full path is labels.<key>.
func (a *Attrs) label(key, s string) bool {
	const p = "labels."
	if a.custom {
		return false
	}
	var k string
	switch {
	case len(a.prefix) == 0 && strings.HasPrefix(key, p) && len(key) > len(p):
		k = key[len(p):]
	case len(a.prefix) == len("labels") && string(a.prefix) == "labels" && key != "":
		k = key
	default:
		return false
	}
	l := Label{Key: sanitizeLabelKey(k), Value: s}
	for i := range a.labels {
		if a.labels[i].Key == l.Key {
			copy(a.labels[i:], a.labels[i+1:])
			a.labels = a.labels[:len(a.labels)-1]
			break
		}
	}
	a.labels = append(a.labels, l)
	return true
}

// add files the value buf[start:] under key.
func (a *Attrs) add(key string, start int, shape string) {
	end := len(a.buf)
	if strings.HasPrefix(shape, "array:") {
		shape = arrayShape(a.buf[start:end])
	}
	if len(a.prefix) == 0 && simpleKey(key) && !dotless(key) {
		// The common case: a plain key at the top, which no ECS path can be.
		if i := a.find(a.cur, key); i >= 0 {
			a.nodes[i].dead = true
		}
		a.link(a.cur, attrNode{key: key, start: int32(start), end: int32(end), plain: true})
		return
	}
	if a.placeable(key) {
		path := key
		n := len(a.prefix)
		if n > 0 {
			a.prefix = append(append(a.prefix, '.'), key...)
			path = unsafe.String(unsafe.SliceData(a.prefix), len(a.prefix))
		}
		ok := a.fits(path, start, end, shape)
		if ok && n > 0 {
			path = strings.Clone(path)
		}
		a.prefix = a.prefix[:n]
		if ok {
			a.place(path, start, end, shape)
			return
		}
	}
	if len(a.placed) > 0 {
		a.unplace(key) // last wins across ECS and custom fields too
	}
	parent := a.cur
	for {
		seg, rest, more := strings.Cut(key, ".")
		if !more {
			a.leaf(parent, seg, int32(start), int32(end))
			return
		}
		parent = a.group(parent, seg)
		key = rest
	}
}

// placeable is a cheap test that rules out keys no ECS path can have
// (ECS names are lowercase ASCII letters, digits, '_', '@' and '.').
func (a *Attrs) placeable(key string) bool {
	if key == "" || a.custom {
		return false
	}
	if len(a.prefix) == 0 && strings.IndexByte(key, '.') < 0 && !dotless(key) {
		return false // the common case, decided without a map lookup
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '@') {
			return false
		}
	}
	return true
}

// fits is Encoder.Placement, refusing also the paths of the Logger's fixed
// fields (Config.Fields, Logger.With: the line has them already, and the
// value stays a custom member rather than being dropped) and values that
// are not valid for the ECS type (an ip that is not an address, an integer
// out of the type's range: noted, and kept as a custom member).
func (a *Attrs) fits(path string, start, end int, shape string) bool {
	f, ok := placementOf(path, shape)
	if !ok || a.fx.shapeOf().has(path) {
		return false
	}
	if why, ok := fitsOne(f, shape, a.buf[start:end]); !ok {
		a.probs = append(a.probs, path+": "+why+"; written to Pipelog.Attrs."+path+" instead")
		return false
	}
	return true
}

// arrayShape is "array:<shape>" when every element of the JSON array v has
// that shape (integers count as numbers when mixed with them), "array:"
// for an empty array, "array:mixed" otherwise.
func arrayShape(v []byte) string {
	var elems []json.RawMessage
	if json.Unmarshal(v, &elems) != nil {
		return "array:mixed"
	}
	shape := ""
	for _, el := range elems {
		s := ShapeOf(el)
		switch {
		case shape == "" || shape == s:
			shape = s
		case (shape == ShapeInteger || shape == ShapeNumber) && (s == ShapeInteger || s == ShapeNumber):
			shape = ShapeNumber
		default:
			return "array:mixed"
		}
	}
	return "array:" + shape
}

// dotlessFields are the ECS fields whose names have no dot (@timestamp,
// labels, message, tags): every other ECS path has one.
var dotlessFields = func() (out []string) {
	for name := range ecsFieldTable {
		if !strings.Contains(name, ".") {
			out = append(out, name)
		}
	}
	return out
}()

func dotless(key string) bool {
	if len(key) != len("tags") && len(key) != len("labels") && len(key) != len("message") && len(key) != len("@timestamp") {
		return false
	}
	for _, f := range dotlessFields {
		if f == key {
			return true
		}
	}
	return false
}

// unplace removes the ECS field whose path is the full path of key.
func (a *Attrs) unplace(key string) {
	n := len(a.prefix)
	for i := range a.placed {
		p := a.placed[i].path
		if n == 0 && p == key || n > 0 && len(p) == n+1+len(key) && p[n] == '.' && p[:n] == string(a.prefix) && p[n+1:] == key {
			copy(a.placed[i:], a.placed[i+1:])
			a.placed = a.placed[:len(a.placed)-1]
			return
		}
	}
}

// uncustom removes the custom member at the full path path, if any.
func (a *Attrs) uncustom(path string) {
	parent := int32(-1)
	for {
		seg, rest, more := strings.Cut(path, ".")
		i := a.find(parent, seg)
		if i < 0 {
			return
		}
		if !more {
			a.nodes[i].dead = true
			return
		}
		if !a.nodes[i].group {
			return
		}
		parent, path = i, rest
	}
}

func (a *Attrs) place(path string, start, end int, shape string) {
	if a.root >= 0 {
		a.uncustom(path)
	}
	for i := range a.placed {
		if a.placed[i].path == path { // last wins
			copy(a.placed[i:], a.placed[i+1:])
			a.placed = a.placed[:len(a.placed)-1]
			break
		}
	}
	a.seq++
	a.placed = append(a.placed, placedField{path: path, start: int32(start), end: int32(end), shape: shape, seq: a.seq})
}

func (a *Attrs) firstChild(parent int32) int32 {
	if parent < 0 {
		return a.root
	}
	return a.nodes[parent].first
}

// find returns the live child key of parent, or -1.
func (a *Attrs) find(parent int32, key string) int32 {
	for i := a.firstChild(parent); i >= 0; i = a.nodes[i].next {
		if n := &a.nodes[i]; !n.dead && n.key == key {
			return i
		}
	}
	return -1
}

func (a *Attrs) link(parent int32, n attrNode) int32 {
	if n.key == "" {
		n.key = "_"
	}
	n.parent, n.first, n.last, n.next = parent, -1, -1, -1
	a.seq++
	n.seq = a.seq
	i := int32(len(a.nodes))
	a.nodes = append(a.nodes, n)
	if parent < 0 {
		if a.root < 0 {
			a.root = i
		} else {
			a.nodes[a.rootLast].next = i
		}
		a.rootLast = i
		return i
	}
	p := &a.nodes[parent]
	if p.first < 0 {
		p.first = i
	} else {
		a.nodes[p.last].next = i
	}
	p.last = i
	return i
}

// group returns the group key below parent, creating it (and replacing a
// value of that name) when needed.
func (a *Attrs) group(parent int32, key string) int32 {
	plain := simpleKey(key)
	if !plain {
		key = cleanKey(key)
	}
	if i := a.find(parent, key); i >= 0 {
		if a.nodes[i].group {
			return i
		}
		a.nodes[i].dead = true
	}
	return a.link(parent, attrNode{key: key, group: true, plain: plain})
}

func (a *Attrs) leaf(parent int32, key string, start, end int32) {
	plain := simpleKey(key)
	if !plain {
		key = cleanKey(key)
	}
	if i := a.find(parent, key); i >= 0 {
		a.nodes[i].dead = true
	}
	a.link(parent, attrNode{key: key, start: start, end: end, plain: plain})
}

// AppendAttrs is AppendDynamic(dst, rec, a.Fields(), custom), without an
// allocation per line.
func (e *Encoder) AppendAttrs(dst []byte, rec *Record, a *Attrs, custom []byte) []byte {
	fields := a.Fields()
	if len(fields) == 0 {
		pl := e.planFor(nil, a.fx.shapeOf())
		return e.appendInput(dst, &input{rec: rec, fx: a.fx, plan: pl, extra: custom}, pl, nil, a.probs)
	}
	sh := a.fx.shapeOf()
	key := a.keyBuf[:0]
	for _, f := range fields {
		key = append(key, f.Path...)
		key = append(key, 0)
	}
	a.keyBuf = key
	pl := a.plan
	if a.planEnc != e || a.planSh != sh || pl == nil || !bytes.Equal(key, a.planKey) {
		pl = e.dynamicPlan(sh, fields)
		a.planEnc, a.planSh, a.plan, a.planKey = e, sh, pl, append(a.planKey[:0], key...)
	}
	a.dyn = dynValues{fields: fields}
	dst = e.appendLineDyn(dst, a.fx, rec, pl, custom, &a.dyn, a.probs)
	a.dyn = dynValues{}
	return dst
}

// cleanKey makes a key segment writable once: "" becomes "_", invalid
// UTF-8 becomes U+FFFD here rather than when written, so that two keys
// that would be written alike are one key to the duplicate rules.
func cleanKey(key string) string {
	if key == "" {
		return "_"
	}
	if !utf8.ValidString(key) {
		return strings.ToValidUTF8(key, "\uFFFD")
	}
	return key
}

// ShapeOf says what JSON value v is: ShapeString, ShapeObject, ShapeBool,
// ShapeNull, ShapeInteger or ShapeNumber, or "array:<shape of the first
// element>" ("array:" for an empty array).
func ShapeOf(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		return ShapeString
	case '{':
		return ShapeObject
	case 't', 'f':
		return ShapeBool
	case 'n':
		return ShapeNull
	case '[':
		if len(v) > 1 {
			switch v[1] {
			case '"':
				return "array:" + ShapeString
			case '{':
				return "array:" + ShapeObject
			case 't', 'f':
				return "array:" + ShapeBool
			case ']':
				return "array:"
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return "array:" + ShapeNumber
			}
		}
		return "array:"
	}
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return ShapeNumber
		}
	}
	return ShapeInteger
}

// AppendStringValue appends s as a JSON string the way the encoder writes
// every string (escaped, invalid UTF-8 replaced, cut at MaxStringBytes).
func (e *Encoder) AppendStringValue(dst []byte, s string) []byte {
	return appendString(dst, s, e.max)
}

// AppendFloatValue appends f as a JSON number, null for NaN and ±Inf.
func AppendFloatValue(dst []byte, f float64, bits int) []byte { return appendFloat(dst, f, bits) }

// AppendTimeValue appends t the way @timestamp is written.
func AppendTimeValue(dst []byte, t time.Time) []byte { return appendTimestamp(dst, t) }

// AppendAnyValue appends v as AddAny encodes it; problems are appended to
// *probs.
func (e *Encoder) AppendAnyValue(dst []byte, name string, v any, probs *[]string) []byte {
	return e.appendAnyValue(dst, name, v, probs)
}

func (e *Encoder) appendAnyValue(dst []byte, name string, v any, probs *[]string) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	st := state{errs: *probs}
	f := field{goName: name}
	dst = e.appendDynamic(dst, &f, v, &st)
	*probs = st.errs
	return dst
}

// WithStackTrace returns err carrying stack for error.stack_trace (unless
// err's chain has a stack of its own, which is preferred). error.message and
// error.type are err's: the wrapper is transparent to the encoder, like
// fmt.Errorf's %w. Adapters use it for a stack captured by the logging
// library (zap's AddStacktrace). A nil err stays nil.
func WithStackTrace(err error, stack string) error {
	if err == nil || stack == "" {
		return err
	}
	return &stackAttached{err: err, stack: stack}
}

type stackAttached struct {
	err   error
	stack string
}

func (e *stackAttached) Error() string { return e.err.Error() }
func (e *stackAttached) Unwrap() error { return e.err }

// StackTrace implements event.StackTracer.
func (e *stackAttached) StackTrace() string {
	if s := findStack(e.err, 0); s != "" {
		return s
	}
	return e.stack
}
