package encode

import (
	"reflect"
	"strings"
)

// Objects of the generic value encoder (value.go) by the key rule
// (keys.go): written as they are when every key is one plain segment, or
// through a tree that nests dotted keys and merges objects met at the same
// path.

// objectLike reports whether the resolved v is written as an object.
func objectLike(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	switch v.Type() {
	case timeType, addrType, durationType, jsonNumberType:
		return false
	case jsonObjectType:
		return true
	}
	return v.Kind() == reflect.Map && !v.IsNil() || v.Kind() == reflect.Struct
}

// members lists the members of the object-like resolved v.
func (w *walker) members(v reflect.Value) []member {
	switch {
	case v.Type() == jsonObjectType:
		return v.Interface().(jsonObject)
	case v.Kind() == reflect.Map:
		return w.mapMembers(v)
	}
	return w.structMembers(v, nil)
}

// object writes members as one object by the key rule: when every key is
// one plain segment and none repeats, as they are; otherwise through a
// tree that nests dotted keys, merges objects met at the same path and
// keeps the later of two values at one path (noted).
func (w *walker) object(dst []byte, ms []member, depth int) []byte {
	if depth >= MaxValueDepth {
		w.note("nested deeper than %d levels (MaxValueDepth); left out", MaxValueDepth)
		return append(dst, "null"...)
	}
	if !simpleMembers(ms) {
		root := &vnode{}
		for _, m := range ms {
			w.insert(root, m.key, m.v, depth)
		}
		return w.tree(dst, root, depth)
	}
	dst = append(dst, '{')
	start := len(dst)
	for i, m := range ms {
		if absent(m.v) {
			continue
		}
		if w.over(dst) {
			w.note("cut after %d of %d members to keep the line within its bound", i, len(ms))
			break
		}
		if len(dst) > start {
			dst = append(dst, ',')
		}
		dst = appendKey(dst, m.key)
		n := w.push(m.key)
		dst = w.value(dst, m.v, depth+1)
		w.pop(n)
	}
	return append(dst, '}')
}

// simpleMembers reports whether every key is one plain segment (no dot, no
// empty segment, valid UTF-8) and no key repeats.
func simpleMembers(ms []member) bool {
	for _, m := range ms {
		if m.key == "" || strings.IndexByte(m.key, '.') >= 0 || !plainKey(m.key) {
			return false
		}
	}
	if len(ms) < 2 {
		return true
	}
	if len(ms) <= 8 {
		for i := range ms {
			for j := i + 1; j < len(ms); j++ {
				if ms[i].key == ms[j].key {
					return false
				}
			}
		}
		return true
	}
	seen := make(map[string]struct{}, len(ms))
	for _, m := range ms {
		if _, dup := seen[m.key]; dup {
			return false
		}
		seen[m.key] = struct{}{}
	}
	return true
}

// vnode is a node of the tree object builds: an object (kids) or a value.
type vnode struct {
	name  string
	orig  string // the source key that put the value here, for notes
	v     reflect.Value
	obj   bool
	kids  []*vnode
	index map[string]int
}

func (n *vnode) child(name string) *vnode {
	if n.index != nil {
		if i, ok := n.index[name]; ok {
			return n.kids[i]
		}
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *vnode) add(k *vnode) {
	n.kids = append(n.kids, k)
	if n.index == nil && len(n.kids) > 16 {
		n.index = make(map[string]int, 32)
		for i, c := range n.kids {
			n.index[c.name] = i
		}
	} else if n.index != nil {
		n.index[k.name] = len(n.kids) - 1
	}
}

// insert places v at key below n (at depth), by the key rule.
func (w *walker) insert(n *vnode, key string, v reflect.Value, depth int) {
	if absent(v) {
		return
	}
	segs := strings.Split(normKey(key), ".")
	mark := len(w.path)
	defer w.pop(mark)
	for i, seg := range segs {
		w.push(seg)
		if depth+i+1 > MaxValueDepth {
			w.note("nested deeper than %d levels (MaxValueDepth); left out", MaxValueDepth)
			return
		}
		c := n.child(seg)
		last := i == len(segs)-1
		if c == nil {
			c = &vnode{name: seg, orig: key, obj: !last}
			n.add(c)
		} else if !last && !c.obj {
			w.note("written twice (keys %q and %q); the later kept", c.orig, key)
			c.obj, c.v, c.kids, c.index, c.orig = true, reflect.Value{}, nil, nil, key
		}
		if last {
			w.place(c, key, v, depth+i+1)
			return
		}
		n = c
	}
}

// place puts v in node c: an object's members merge into c's, any other
// value replaces what c held (noted).
func (w *walker) place(c *vnode, key string, v reflect.Value, depth int) {
	if objectLike(v) {
		if !c.obj && c.v.IsValid() {
			w.note("written twice (keys %q and %q); the later kept", c.orig, key)
			c.v = reflect.Value{}
		}
		c.obj = true
		for _, m := range w.members(v) {
			w.insert(c, m.key, m.v, depth)
		}
		return
	}
	if c.obj && len(c.kids) > 0 || c.v.IsValid() {
		w.note("written twice (keys %q and %q); the later kept", c.orig, key)
	}
	c.obj, c.kids, c.index, c.v, c.orig = false, nil, nil, v, key
}

// tree writes n's members as one object.
func (w *walker) tree(dst []byte, n *vnode, depth int) []byte {
	dst = append(dst, '{')
	start := len(dst)
	for i, k := range n.kids {
		if !k.obj && !k.v.IsValid() {
			continue
		}
		if w.over(dst) {
			w.note("cut after %d of %d members to keep the line within its bound", i, len(n.kids))
			break
		}
		if len(dst) > start {
			dst = append(dst, ',')
		}
		dst = appendKey(dst, k.name)
		m := w.push(k.name)
		if k.obj {
			dst = w.tree(dst, k, depth+1)
		} else {
			dst = w.value(dst, k.v, depth+1)
		}
		w.pop(m)
	}
	return append(dst, '}')
}
