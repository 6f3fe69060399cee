package encode

import (
	"fmt"
	"strings"
)

// op says what a leaf of the output tree writes.
type op uint8

const (
	opObject       op = iota // an object node: writes its children, or nothing when they write nothing
	opStatic                 // a value fixed when the tree was built (service.name, event.action)
	opEventID                // event.id
	opReason                 // event.reason
	opStatusCode             // http.response.status_code
	opWarning                // Pipelog.warning
	opTraceID                // trace.id (falls back to the correlation ID)
	opSpanID                 // span.id
	opTransaction            // transaction.id
	opRequestID              // http.request.id
	opWorker                 // process.thread.name
	opThreadID               // process.thread.id
	opFile                   // log.origin.file.name
	opLine                   // log.origin.file.line
	opFunction               // log.origin.function
	opLabels                 // labels: static, context and event labels merged, keys sanitised and unique
	opErrMessage             // error.message
	opErrType                // error.type
	opErrStack               // error.stack_trace
	opField                  // a field of the typed event
	opEncodeErrors           // Pipelog.encode_errors: what went wrong while encoding this line
	opDynamic                // an adapter's field, by index into AppendDynamic's fields
	opFixed                  // a fixed field (Config.Fields, With), by slot of the line's Fixed
	opLogger                 // log.logger: the record's, else Config.LoggerName
	opOpen                   // compiled: open an object
	opClose                  // compiled: close an object, or take it back when empty
)

// node is one key of the output. Trees are built once per (Encoder, event
// type) and never modified afterwards, so encoders share them freely.
type node struct {
	name        string // key as given
	key         []byte // `"name":` ready to append
	op          op
	kids        []*node
	static      []byte // opStatic: the encoded value
	field       *field // opField
	index       int    // opDynamic: field index; opFixed: slot
	overridable bool   // a typed event's ECS field may replace this leaf
}

func newNode(name string, o op) *node {
	return &node{name: name, key: appendKey(nil, name), op: o}
}

func (n *node) child(name string) *node {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// insert places leaf at the dotted path below n, creating objects on the
// way. Placing a value where one already is, or below a leaf, is an error:
// that is how the encoder guarantees no duplicate keys.
func (n *node) insert(path string, leaf *node) error {
	parts := strings.Split(path, ".")
	cur := n
	for i, p := range parts[:len(parts)-1] {
		next := cur.child(p)
		if next == nil {
			next = newNode(p, opObject)
			cur.kids = append(cur.kids, next)
		} else if next.op != opObject {
			return fmt.Errorf("%q would nest below the field %q", path, strings.Join(parts[:i+1], "."))
		}
		cur = next
	}
	last := parts[len(parts)-1]
	leaf.name, leaf.key = last, appendKey(nil, last)
	if old := cur.child(last); old != nil {
		if old.op != opObject && old.overridable && leaf.op != opObject {
			*old = *leaf
			return nil
		}
		return fmt.Errorf("%q is already written by pipelog", path)
	}
	cur.kids = append(cur.kids, leaf)
	return nil
}

// clone copies the tree so a per-type tree can be grown from the encoder's.
func (n *node) clone() *node {
	c := *n
	c.kids = make([]*node, len(n.kids))
	for i, k := range n.kids {
		c.kids[i] = k.clone()
	}
	return &c
}

// find returns the node at the dotted path, or nil.
func (n *node) find(path string) *node {
	cur := n
	for _, p := range strings.Split(path, ".") {
		if cur = cur.child(p); cur == nil {
			return nil
		}
	}
	return cur
}
