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

func internShape(paths []string) *Shape {
	if len(paths) == 0 {
		return nil
	}
	key := strings.Join(paths, "\x00")
	shapes.mu.Lock()
	defer shapes.mu.Unlock()
	if s := shapes.m[key]; s != nil {
		return s
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
	var all []Field
	if parent != nil {
		all = append(all, parent.fields...)
	}
	for _, f := range fields {
		if i := slices.IndexFunc(all, func(g Field) bool { return g.Key == f.Key }); i >= 0 {
			all = slices.Delete(all, i, i+1)
		}
		all = append(all, f)
	}
	fx := &Fixed{fields: all}
	type slot struct {
		path string
		val  []byte
	}
	var slots []slot
	var errs []error
	for _, f := range all {
		if f.Key == "" {
			errs = append(errs, errors.New("a field has an empty key"))
			continue
		}
		typ, isECS := fieldType(f.Key)
		if !isECS {
			fx.labels = setLabel(fx.labels, Label{Key: sanitizeLabelKey(f.Key), Value: fmt.Sprint(f.Value)})
			continue
		}
		if reserved[f.Key] {
			errs = append(errs, fmt.Errorf("field %q is written by pipelog itself", f.Key))
			continue
		}
		if !isLeaf(f.Key) {
			errs = append(errs, fmt.Errorf("field %q is an ECS field set, not a field", f.Key))
			continue
		}
		v, err := e.fixedValue(f.Key, typ, f.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("field %q: %w", f.Key, err))
			continue
		}
		slots = append(slots, slot{f.Key, v})
	}
	slices.SortFunc(slots, func(a, b slot) int { return strings.Compare(a.path, b.path) })
	paths := make([]string, len(slots))
	for i, s := range slots {
		paths[i] = s.path
		fx.vals = append(fx.vals, s.val)
	}
	fx.shape = internShape(paths)
	return fx, errors.Join(errs...)
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
	if s, ok := v.(string); ok && typ == "ip" && !isAddr(s) {
		return nil, fmt.Errorf("%q is not an IP address (ECS type ip)", s)
	}
	if ss, ok := v.([]string); ok && typ == "ip" {
		if i := firstNonAddr(ss); i >= 0 {
			return nil, fmt.Errorf("%q is not an IP address (ECS type ip)", ss[i])
		}
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
