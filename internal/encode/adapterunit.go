package encode

import (
	"fmt"
	"strings"
)

// Units: an object given as a value (zap.Object, a slog.Group attribute)
// is placed whole, on ECS fields or among the custom members (see OpenUnit).

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
