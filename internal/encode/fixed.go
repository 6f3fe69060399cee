package encode

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fixed is what a Logger writes on every line besides the Encoder's own
// fields: its Config.Fields and With fields. Fields on ECS paths are encoded
// once into slots; the plans refer to a slot, not to its value, so every
// Fixed of the same Shape (the same ECS paths, whatever the values) shares
// one set of compiled plans. Other keys are labels. A Fixed is immutable.
type Fixed struct {
	shape  *Shape
	vals   [][]byte // encoded values, by slot (the order of shape.paths)
	labels []Label
	fields []Field // every field, later ones replacing earlier ones of the same key
}

// Shape is the sorted list of ECS paths a Fixed has values for. Shapes are
// interned, so comparing pointers compares shapes; a nil *Shape has no
// paths.
type Shape struct {
	id    uint32
	paths []string
}

// has reports whether path is one of the shape's paths.
func (s *Shape) has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := slices.BinarySearch(s.paths, path)
	return ok
}

// maxShapes bounds the interned shapes; past it a Fixed gets a shape of its
// own, which is correct but shares no plans.
const maxShapes = 4096

var shapes struct {
	mu sync.Mutex
	m  map[string]*Shape
	n  uint32
}

// internShape returns the shape of the n sorted paths path(0)…path(n-1).
// It copies the paths only for a shape it has not seen.
func internShape(n int, path func(int) string) *Shape {
	if n == 0 {
		return nil
	}
	var kbBuf [256]byte
	kb := kbBuf[:0]
	for i := range n {
		if i > 0 {
			kb = append(kb, 0)
		}
		kb = append(kb, path(i)...)
	}
	shapes.mu.Lock()
	defer shapes.mu.Unlock()
	if s := shapes.m[string(kb)]; s != nil { // a lookup by string(kb) does not copy kb
		return s
	}
	key := string(kb)
	paths := make([]string, n)
	for i := range paths {
		paths[i] = path(i)
	}
	shapes.n++
	s := &Shape{id: shapes.n, paths: paths}
	if shapes.m == nil {
		shapes.m = map[string]*Shape{}
	}
	if len(shapes.m) < maxShapes {
		shapes.m[key] = s
	}
	return s
}

// Fix returns the Fixed of parent (nil: none) plus fields. A later field
// replaces an earlier one with the same key. A field that cannot be placed
// (an empty key, a field pipelog writes itself, a value that does not fit
// its ECS type) is left out and reported in the error; the Fixed is usable
// either way.
func (e *Encoder) Fix(parent *Fixed, fields []Field) (*Fixed, error) {
	// Derived loggers are made per request or per unit of work, so this
	// counts its allocations: a Fixed of a few fields is one allocation
	// (fixedBlock), a larger one at most five.
	var pf []Field
	if parent != nil {
		pf = parent.fields
	}
	blk := &fixedBlock{}
	fx := &blk.fx
	all := blk.fields[:len(pf)]
	if len(pf)+len(fields) > len(blk.fields) {
		all = make([]Field, len(pf), len(pf)+len(fields))
	}
	copy(all, pf)
	for _, f := range fields {
		if i := indexField(all, f.Key); i >= 0 {
			all = slices.Delete(all, i, i+1)
		}
		all = append(all, f)
	}
	fx.fields = all

	// What each field is: a label, an ECS slot (its type), or refused.
	const small = 8
	var typesBuf [small]string
	types := typesBuf[:0]
	if len(all) > small {
		types = make([]string, 0, len(all))
	}
	var errs []error
	nLabels, nSlots := 0, 0
	for _, f := range all {
		ent, isECS := ecsFieldTable[f.Key]
		typ := ent.typ
		switch {
		case f.Key == "":
			errs = append(errs, errors.New("a field has an empty key"))
			typ = ""
		case !isECS:
			typ = "label"
			nLabels++
		case reserved[f.Key]:
			errs = append(errs, fmt.Errorf("field %q is written by pipelog itself", f.Key))
			typ = ""
		case !ent.leaf:
			errs = append(errs, fmt.Errorf("field %q is an ECS field set, not a field", f.Key))
			typ = ""
		default:
			nSlots++
		}
		types = append(types, typ)
	}
	if nLabels > len(blk.labels) {
		fx.labels = make([]Label, 0, nLabels)
	} else if nLabels > 0 {
		fx.labels = blk.labels[:0]
	}

	// Slots in path order; values encoded into one buffer, sliced after.
	type slot struct {
		path       string
		start, end int
	}
	var slotsBuf [small]slot
	slots := slotsBuf[:0]
	if nSlots > small {
		slots = make([]slot, 0, nSlots)
	}
	buf := blk.buf[:0]
	for i, f := range all {
		switch types[i] {
		case "":
		case "label":
			v, ok := f.Value.(string)
			if !ok {
				v = fmt.Sprint(f.Value)
			}
			fx.labels = setLabel(fx.labels, Label{Key: sanitizeLabelKey(f.Key), Value: v})
		default:
			start := len(buf)
			var err error
			buf, err = e.appendFixedValue(buf, f.Key, types[i], f.Value)
			if err != nil {
				buf = buf[:start]
				errs = append(errs, fmt.Errorf("field %q: %w", f.Key, err))
				continue
			}
			slots = append(slots, slot{f.Key, start, len(buf)})
		}
	}
	if len(slots) > 0 {
		slices.SortFunc(slots, func(a, b slot) int { return strings.Compare(a.path, b.path) })
		fx.vals = blk.vals[:len(slots)]
		if len(slots) > len(blk.vals) {
			fx.vals = make([][]byte, len(slots))
		}
		for i, s := range slots {
			fx.vals[i] = buf[s.start:s.end:s.end]
		}
		fx.shape = internShape(len(slots), func(i int) string { return slots[i].path })
	}
	return fx, errors.Join(errs...)
}

// fixedBlock holds a Fixed of a few fields and its slices in one
// allocation; a Fixed with more spills the parts that do not fit to the
// heap.
type fixedBlock struct {
	fx     Fixed
	fields [4]Field
	labels [4]Label
	vals   [4][]byte
	buf    [96]byte
}

func indexField(fields []Field, key string) int {
	for i := range fields {
		if fields[i].Key == key {
			return i
		}
	}
	return -1
}

// appendFixedValue appends fixedValue's encoding of v to b.
func (e *Encoder) appendFixedValue(b []byte, path, typ string, v any) ([]byte, error) {
	if s, ok := v.(string); ok && accepts(typ, ShapeString) {
		// The common case, without a buffer of its own.
		start := len(b)
		b = appendString(b, s, e.max)
		if !hasValueRule(typ) { // no second table lookup for a keyword, the usual With field
			return b, nil
		}
		if why, ok := fitsOne(ecsFieldTable[path], ShapeString, b[start:]); !ok {
			return b[:start], errors.New(why)
		}
		return b, nil
	}
	enc, err := e.fixedValue(path, typ, v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

// fixedValue encodes v for the ECS field path of type typ, or says why it
// does not fit: durations only where ECS gives a unit (converted to it),
// addresses only on ip fields that parse.
func (e *Encoder) fixedValue(path, typ string, v any) ([]byte, error) {
	switch x := v.(type) {
	case net.IP:
		a, ok := netip.AddrFromSlice(x)
		if !ok {
			return nil, fmt.Errorf("%v is not an IP address", x)
		}
		v = a
	case time.Duration:
		unit, ok := durationUnits[path]
		if !ok {
			return nil, fmt.Errorf("a time.Duration cannot go on ECS %s field %q: ECS gives it no time unit", typ, path)
		}
		return strconv.AppendInt(nil, int64(x/unit), 10), nil
	}
	if a, ok := v.(netip.Addr); ok {
		if !a.IsValid() || typ != "ip" && !accepts(typ, "string") {
			return nil, fmt.Errorf("%v does not fit ECS type %s", v, typ)
		}
		return appendAddr(nil, a), nil
	}
	b, shape := e.encodeFixed(v)
	if !accepts(typ, shape) {
		return nil, fmt.Errorf("a %T does not fit ECS type %s", v, typ)
	}
	// The rules adapters' values meet too: addresses, integer ranges,
	// geo points, object members.
	if why, ok := fitsOne(ecsFieldTable[path], shape, b); !ok {
		return nil, errors.New(why)
	}
	return b, nil
}

// Fields returns the fields fx was made from.
func (fx *Fixed) Fields() []Field {
	if fx == nil {
		return nil
	}
	return fx.fields
}

func (fx *Fixed) shapeOf() *Shape {
	if fx == nil {
		return nil
	}
	return fx.shape
}

func (fx *Fixed) labelsOf() []Label {
	if fx == nil {
		return nil
	}
	return fx.labels
}
