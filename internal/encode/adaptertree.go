package encode

import (
	"strings"
	"unicode/utf8"
)

// The custom members' tree: groups are nodes with children, values leaves
// pointing into Attrs.buf; a replaced node is marked dead, not removed.

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

func (a *Attrs) firstChild(parent int32) int32 {
	if parent < 0 {
		return a.root
	}
	return a.nodes[parent].first
}

// find returns the live child key of parent, or -1.
func (a *Attrs) find(parent int32, key string) int32 {
	if parent < 0 && a.rootKeys&keyBit(key) == 0 {
		return -1 // the common case: a new key at the top, found without a scan
	}
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
		a.rootKeys |= keyBit(n.key)
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

// keyBit is key's bit in Attrs.rootKeys: a cheap hash of its length and
// first and last bytes.
func keyBit(key string) uint64 {
	if key == "" {
		return 1
	}
	return 1 << ((uint(len(key))*7 + uint(key[0]) + uint(key[len(key)-1])*3) & 63)
}
