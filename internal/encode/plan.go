package encode

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// reserved are the ECS fields the library writes itself. A typed event or a
// With field may not claim them (event.kind excepted: it is overridable).
var reserved = map[string]bool{
	"@timestamp": true, "log.level": true, "message": true, "ecs.version": true,
	"event.action": true, "event.id": true, "event.dataset": true, "event.reason": true,
	"process.thread.name": true, "process.thread.id": true, "process.pid": true,
	"log.logger": true, "log.origin.file.name": true, "log.origin.file.line": true, "log.origin.function": true,
	"trace.id": true, "span.id": true, "transaction.id": true, "http.request.id": true,
	"http.response.status_code": true, "error.message": true, "error.type": true, "error.stack_trace": true,
	"service.name": true, "service.version": true, "service.environment": true, "service.node.name": true,
	"host.hostname": true, "labels": true,
}

// plan is the tree for one event type under one Encoder.
type plan struct {
	ti     *typeInfo
	root   *node
	prog   []step  // root, compiled
	labels []field // event fields tagged labels.<key>
	err    error   // the type's definition error, reported once per Encoder

	reported atomic.Bool

	variantsMu sync.Mutex
	variants   atomic.Pointer[[]variant] // programs specialised by what the record carries
}

// buildPlan builds the plan of event type ti (nil: a line without a typed
// event) with the fixed fields of shape sh in slots.
func (e *Encoder) buildPlan(ti *typeInfo, sh *Shape) *plan {
	p := &plan{ti: ti, root: e.root.clone()}
	if sh != nil {
		for i, path := range sh.paths {
			if err := p.root.insert(path, &node{op: opFixed, index: i}); err != nil {
				panic("encode: fixed field " + path + ": " + err.Error()) // Fix checked it against the library tree
			}
		}
	}
	if ti == nil {
		e.finish(p)
		return p
	}
	p.err = ti.err
	p.root.find("event.action").static = e.str(ti.name)
	var errs []error
	for i := range ti.ecs {
		f := &ti.ecs[i]
		if strings.HasPrefix(f.ecsPath, "labels.") {
			p.labels = append(p.labels, *f)
			continue
		}
		if reserved[f.ecsPath] {
			errs = append(errs, fmt.Errorf("field %s: %q is written by pipelog itself", f.goName, f.ecsPath))
			continue
		}
		if err := p.root.insert(f.ecsPath, &node{op: opField, field: f}); err != nil {
			errs = append(errs, fmt.Errorf("field %s: %w", f.goName, err))
		}
	}
	if len(ti.custom) > 0 {
		obj := newNode(ti.rootKey, opObject)
		for i := range ti.custom {
			f := &ti.custom[i]
			if err := obj.insert(f.key, &node{op: opField, field: f}); err != nil {
				errs = append(errs, fmt.Errorf("field %s: %w", f.goName, err))
			}
		}
		pl := p.root.child(pipelogRoot)
		pl.kids = append(pl.kids, obj)
	}
	e.finish(p)
	if len(errs) > 0 {
		p.err = errors.Join(p.err, fmt.Errorf("%w %s: %w", ErrInvalidEvent, ti.name, errors.Join(errs...)))
	}
	return p
}

// finish moves the Pipelog object to the end of the line and puts
// encode_errors last inside it, so errors found anywhere while writing the
// line can still be reported in it.
func (e *Encoder) finish(p *plan) {
	root := p.root
	var pl *node
	kids := root.kids[:0]
	for _, k := range root.kids {
		if k.name == pipelogRoot {
			pl = k
			continue
		}
		kids = append(kids, k)
	}
	if pl == nil {
		pl = newNode(pipelogRoot, opObject)
	}
	pl.kids = append(pl.kids, newNode("encode_errors", opEncodeErrors))
	// ecs.version leads the fixed bytes: a dotted top-level key (the spec
	// wants it so), not a path to split into objects.
	version := &node{name: "ecs.version", key: appendKey(nil, "ecs.version"), op: opStatic, static: appendString(nil, Version, 0)}
	root.kids = append(append([]*node{version}, kids...), pl)
	for _, k := range root.kids {
		collapse(k)
	}
	compile(&p.prog, root, 0, allNeeds, p.ti != nil)
}

// maxVariants bounds the programs kept per plan, one per kind of record
// (what it carries, see need); past it, the generic program runs.
const maxVariants = 32

type variant struct {
	has  need
	prog []step
}

// progFor returns the program of the plan for records that carry has.
func (p *plan) progFor(has need) []step {
	if vs := p.variants.Load(); vs != nil {
		for i := range *vs {
			if (*vs)[i].has == has {
				return (*vs)[i].prog
			}
		}
	}
	p.variantsMu.Lock()
	defer p.variantsMu.Unlock()
	var old []variant
	if vs := p.variants.Load(); vs != nil {
		old = *vs
		for i := range old {
			if old[i].has == has {
				return old[i].prog
			}
		}
	}
	if len(old) >= maxVariants {
		return p.prog
	}
	var prog []step
	compile(&prog, p.root, 0, has, p.ti != nil)
	next := append(append(make([]variant, 0, len(old)+1), old...), variant{has: has, prog: prog})
	p.variants.Store(&next)
	return prog
}

// maxDepth bounds object nesting in a plan's tree; ECS paths are at most 7
// deep, custom fields add two levels (Pipelog.<Event>) and nest further
// inside values, not in the tree.
const maxDepth = 16

// singleLeaf reports whether n is an object chain ending in one dynamic
// leaf, and returns that leaf, the combined key (`"trace":{"id":`) and the
// number of objects to close.
func singleLeaf(n *node) (*node, []byte, int) {
	if n.op != opObject || len(n.kids) != 1 {
		return nil, nil, 0
	}
	k := n.kids[0]
	switch {
	case k.op == opObject:
		leaf, key, d := singleLeaf(k)
		if leaf == nil {
			return nil, nil, 0
		}
		return leaf, append(append(append([]byte(nil), n.key...), '{'), key...), d + 1
	case k.op == opStatic:
		return nil, nil, 0
	}
	return k, append(append(append([]byte(nil), n.key...), '{'), k.key...), 1
}

// fieldAlways reports whether an event field is never left out: not
// omitempty, not a time, not a pointer, not an ECS string.
func fieldAlways(f *field) bool {
	return !f.omitEmpty && f.kind != kTime && f.kind != kPtr && f.kind != kIP && f.kind != kAddr &&
		!f.ipCheck && f.moved == nil && !f.seconds && !(f.ecsPath != "" && f.kind == kString)
}

// alwaysWrites reports whether n writes something on every line: a fixed
// value, or an event field that is never left out (not omitempty, not a
// time, not an ECS string, not a pointer), or an object holding one. Such
// objects need no roll-back check, and their braces can be merged into the
// fixed bytes around them.
func alwaysWrites(n *node) bool {
	switch n.op {
	case opStatic:
		return n.static != nil
	case opFixed, opDynamic:
		return true
	case opField:
		return fieldAlways(n.field)
	case opObject:
		for _, k := range n.kids {
			if alwaysWrites(k) {
				return true
			}
		}
	}
	return false
}

// collapse turns an object whose leaves are all fixed (service, host) into
// one pre-encoded value, so writing it is a single copy instead of a walk.
// It reports whether n is now fixed.
func collapse(n *node) bool {
	if n.op == opStatic {
		return n.static != nil
	}
	if n.op != opObject {
		return false
	}
	all := true
	for _, k := range n.kids {
		if !collapse(k) {
			all = false
		}
	}
	if !all || len(n.kids) == 0 {
		return false
	}
	v := []byte{'{'}
	for i, k := range n.kids {
		if i > 0 {
			v = append(v, ',')
		}
		v = append(v, k.key...)
		v = append(v, k.static...)
	}
	n.op, n.static, n.kids = opStatic, append(v, '}'), nil
	return true
}

// encodeFixed encodes a With value and says its JSON shape (see accepts).
func (e *Encoder) encodeFixed(v any) ([]byte, string) {
	switch x := v.(type) {
	case string:
		return e.str(x), "string"
	case bool:
		return []byte(fmt.Sprint(x)), "boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return []byte(fmt.Sprint(x)), "integer"
	case float32:
		return appendFloat(nil, float64(x), 32), "number"
	case float64:
		return appendFloat(nil, x, 64), "number"
	case time.Time:
		return appendTimestamp(nil, x), "date"
	case time.Duration:
		return []byte(fmt.Sprint(int64(x))), "duration"
	case []string:
		b := []byte{'['}
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s, e.max)
		}
		return append(b, ']'), "array:string"
	}
	return e.str(fmt.Sprint(v)), "unknown"
}
