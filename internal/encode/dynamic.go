package encode

import (
	"strings"
	"sync"
)

// DynamicField is a field an adapter (slog, zap) meets at run time, already
// encoded: Value is one JSON value, Shape what it is ("string", "integer",
// "number", "boolean", "date", "duration", "object", "array:string", …; see
// Shape* constants).
type DynamicField struct {
	Path  string
	Value []byte
	Shape string
}

// JSON shapes of DynamicField.Shape.
const (
	ShapeString  = "string"
	ShapeInteger = "integer"
	ShapeNumber  = "number"
	ShapeBool    = "boolean"
	ShapeDate    = "date"
	ShapeObject  = "object"
	ShapeNull    = "null"
)

// Placement says where AppendDynamic can put a field named path with the
// given shape: on its ECS field (true), or not (false: the adapter writes it
// among its custom fields). A path is placed when it is an ECS leaf field the
// library does not write itself and the shape fits its ECS type, an array
// only on a field ECS normalises to an array (which the ecs-logging
// conformance check requires). http.response.status_code is placed too:
// the library writes it from Base.StatusCode, which an adapter's record
// never carries, so an adapter's attribute is the line's status.
func (e *Encoder) Placement(path, shape string) bool {
	_, ok := placementOf(path, shape)
	return ok
}

// adapterStatus is the one field the library writes that an adapter may
// set: the node that writes Base.StatusCode gives way to it (see
// buildDynamicPlan).
const adapterStatus = "http.response.status_code"

func placementOf(path, shape string) (ecsFieldEntry, bool) {
	f, ok := ecsFieldTable[path] // one lookup: adapters call this for every dotted key
	if !ok || !f.leaf || reserved[path] && path != adapterStatus || strings.HasPrefix(path, "labels.") {
		// labels.* merge with context labels; adapters pass them in Record.Labels
		return f, false
	}
	if shape == ShapeNull {
		return f, true
	}
	if shape == "duration" { // adapters encode durations in nanoseconds
		return f, DurationFits(path)
	}
	if strings.HasPrefix(shape, "array:") && (!f.array || f.typ == "object" || f.typ == "flattened") {
		return f, false
	}
	return f, accepts(f.typ, shape)
}

// maxDynamicPlans bounds the cache of trees for combinations of ECS fields
// adapters have written; past it, trees are built per line and not kept.
const maxDynamicPlans = 4096

type dynamicPlans struct {
	mu    sync.RWMutex
	plans map[string]*plan
}

// AppendDynamic appends a line for rec with fields on their ECS paths (each
// one must have passed Placement) and custom, zero or more comma-separated
// `"key":value` members, inside the Pipelog object. Fields whose paths
// collide with each other keep the first.
func (e *Encoder) AppendDynamic(dst []byte, fx *Fixed, rec *Record, fields []DynamicField, custom []byte) []byte {
	if len(fields) == 0 {
		return e.AppendRecord(dst, fx, rec, custom)
	}
	pl := e.dynamicPlan(fx.shapeOf(), fields)
	st := dynValues{fields: fields}
	return e.appendLineDyn(dst, fx, rec, pl, custom, &st, nil)
}

type dynValues struct{ fields []DynamicField }

func (e *Encoder) dynamicPlan(sh *Shape, fields []DynamicField) *plan {
	var kb [256]byte
	key := appendShapeKey(kb[:0], sh)
	for _, f := range fields {
		key = append(key, f.Path...)
		key = append(key, 0)
	}
	e.dyn.mu.RLock()
	pl := e.dyn.plans[string(key)] // no allocation: the compiler converts in place for lookups
	e.dyn.mu.RUnlock()
	if pl != nil {
		return pl
	}
	pl = e.buildDynamicPlan(sh, fields)
	e.dyn.mu.Lock()
	if e.dyn.plans == nil {
		e.dyn.plans = map[string]*plan{}
	}
	if len(e.dyn.plans) < maxDynamicPlans {
		e.dyn.plans[string(key)] = pl
	}
	e.dyn.mu.Unlock()
	return pl
}

// appendShapeKey starts a dynamic plan's cache key with the shape's id.
func appendShapeKey(dst []byte, sh *Shape) []byte {
	var id uint32
	if sh != nil {
		id = sh.id
	}
	return append(dst, byte(id), byte(id>>8), byte(id>>16), byte(id>>24))
}

func (e *Encoder) buildDynamicPlan(sh *Shape, fields []DynamicField) *plan {
	pl := &plan{root: e.root.clone()}
	if sh != nil {
		for i, path := range sh.paths {
			_ = pl.root.insert(path, &node{op: opFixed, index: i}) // Fix checked it against the library tree
		}
	}
	for i, f := range fields {
		if f.Path == adapterStatus {
			// An adapter's record has no Base.StatusCode: its attribute
			// takes the place of the node that would write it.
			if n := pl.root.find(adapterStatus); n != nil && n.op == opStatusCode {
				*n = node{name: n.name, key: n.key, op: opDynamic, index: i}
				continue
			}
		}
		_ = pl.root.insert(f.Path, &node{op: opDynamic, index: i}) // a colliding path keeps the first
	}
	e.finish(pl)
	return pl
}
