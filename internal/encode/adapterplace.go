package encode

import (
	"bytes"
	"encoding/json"
	"strings"
	"unsafe"
)

// Where an adapter's value goes: on its ECS field, a label, or among the
// custom members (the rules are on Attrs), and the line it makes.

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
