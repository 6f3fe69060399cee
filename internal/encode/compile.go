package encode

import (
	"bytes"
	"strconv"
)

// Compiling a plan's key tree into steps: see compile.
// compile compiles the tree for records that carry exactly has (all: a
// generic program that tests at run time what each record carries).
func compile(prog *[]step, n *node, depth int, has need, typed bool) {
	compileSteps(prog, n, depth, has, typed)
	*prog = stitch(*prog)
}

// compileSteps is compile without stitch: every leaf with its own key.
// (stitch pads every fixed byte slice; so does this, for the same reason.)
func compileSteps(prog *[]step, n *node, depth int, has need, typed bool) {
	c := compiler{has: has, typed: typed}
	c.tree(prog, n, depth)
	for i := range *prog {
		s := &(*prog)[i]
		if len(s.key) != 0 {
			s.qkey = append(append(make([]byte, 0, len(s.key)+1), s.key...), '"')
		}
		s.key, s.qkey, s.suffix = pad(s.key), pad(s.qkey), pad(s.suffix)
	}
}

// stitch turns runs of fixed bytes and leaves that always write into
// alternating fixed bytes and values, the way a hand-written encoder writes
// a known line: a leaf's comma and key (and a string's opening quote) join
// the fixed bytes before it, and the fixed bytes after it join its suffix.
// Leaves that may write nothing, and optional objects, keep their own keys
// and stop a run.
func stitch(prog []step) []step {
	out := make([]step, 0, len(prog))
	for _, s := range prog {
		var prev *step
		if n := len(out); n > 0 {
			prev = &out[n-1]
		}
		switch {
		case s.code == cStatic && prev != nil && prev.keepsSuffix():
			if !s.raw {
				prev.suffix = append(prev.suffix, ',')
			}
			prev.suffix = append(prev.suffix, s.key...)
			continue
		case s.always && s.stitchable() && prev != nil && (prev.code == cStatic || prev.keepsSuffix()):
			k := s.key
			if stringCode(s.code) {
				k = s.qkey
			}
			target := &prev.suffix
			if prev.code == cStatic {
				target = &prev.key
			}
			if t := *target; len(t) == 0 || t[len(t)-1] != '{' && t[len(t)-1] != '[' {
				*target = append(*target, ',')
			}
			*target = append(*target, k...)
			s.keyless = true
		}
		out = append(out, s)
	}
	var opens []int
	for i := range out {
		o := &out[i]
		// Every fixed byte slice gets its own, padded memory (appendFixed
		// reads 16 bytes of a short one).
		o.key, o.qkey, o.suffix = pad(o.key), pad(o.qkey), pad(o.suffix)
		// steps moved: every object's jump is found again
		switch out[i].code {
		case cOpen:
			opens = append(opens, i)
		case cClose:
			out[opens[len(opens)-1]].jump = i + 1
			opens = opens[:len(opens)-1]
		}
	}
	return out
}

// pad returns a copy of b with at least 16 bytes of capacity to spare.
func pad(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)+16), b...)
}

// keepsSuffix: s is a leaf that always writes and writes its suffix, so
// fixed bytes after it can be written as part of it.
func (s *step) keepsSuffix() bool { return s.always && s.stitchable() }

// stitchable: the step writes a key and one value (a string when
// stringCode) and nothing else, so its key can be written before it.
func (s *step) stitchable() bool {
	switch s.code {
	case cInt, cInt8, cInt16, cInt32, cInt64, cUint, cUint8, cUint16, cUint32, cUint64, cUintptr,
		cFloat32, cFloat64, cBool, cFixed, cDynamic:
		return true
	}
	return stringCode(s.code)
}

// stringCode: the step's value is always a JSON string.
func stringCode(c code) bool {
	switch c {
	case cString, cEventID, cReason, cWarning, cTraceID, cSpanID, cTransaction, cRequestID, cWorker,
		cFile, cFunction, cLogger, cErrMessage, cErrType, cErrStack:
		return true
	}
	return false
}

// compiler compiles a plan's tree into steps for records that carry has.
// Knowing what the record carries, a record leaf the record cannot fill is
// left out, and one it fills counts as always writing: objects holding
// it need no roll-back, and fixed bytes merge across what was left out.
type compiler struct {
	has   need
	typed bool // a typed event's plan: no adapter members to insert at Pipelog's end
}

// extraAt reports the object adapters' custom members are inserted into
// (Pipelog, in plans of lines without a typed event): it must stay a
// step of its own.
func (c *compiler) extraAt(k *node, depth int) bool {
	return !c.typed && depth == 0 && k.name == pipelogRoot
}

// allNeeds marks the generic program.
const allNeeds need = 1<<16 - 1

// skip reports a record leaf this record cannot fill.
func (c *compiler) skip(n *node) bool {
	if c.has == allNeeds || n.op == opObject || n.op == opField || n.op == opStatic {
		return false
	}
	nd := recordNeeds[recordCodes[n.op]]
	return nd != 0 && c.has&nd == 0
}

// always reports whether n writes on every line of this kind of record.
func (c *compiler) always(n *node) bool {
	if n.op == opObject {
		for _, k := range n.kids {
			if c.always(k) {
				return true
			}
		}
		return false
	}
	if alwaysWrites(n) {
		return true
	}
	if c.has == allNeeds {
		return false
	}
	// Record leaves that write whenever the record carries what they need.
	switch n.op {
	case opEventID, opReason, opWarning, opStatusCode, opTraceID, opSpanID, opTransaction, opRequestID,
		opWorker, opThreadID, opFile, opLogger, opErrType:
		return c.has&recordNeeds[recordCodes[n.op]] != 0
	}
	return false
}

func (c *compiler) tree(prog *[]step, n *node, depth int) {
	if depth >= maxDepth {
		panic("encode: plan nested deeper than maxDepth") // impossible for ECS paths; caught by tests
	}
	for _, k := range n.kids {
		if c.skip(k) || k.op == opObject && c.empty(k) {
			continue
		}
		if leaf, key, depthOf := c.singleLeaf(k); leaf != nil && !(depth == 0 && k.name == pipelogRoot) {
			s := c.leafStep(leaf, key)
			s.suffix = bytes.Repeat([]byte{'}'}, depthOf)
			*prog = append(*prog, s)
			continue
		}
		switch {
		case k.op == opObject && c.always(k) && !c.extraAt(k, depth):
			// Never empty: its braces are fixed bytes, merged with the
			// fixed bytes around them.
			addStatic(prog, append(append([]byte(nil), k.key...), '{'))
			c.tree(prog, k, depth+1)
			addStatic(prog, []byte{'}'})
		case k.op == opObject:
			optional := !c.always(k)
			key := append(append([]byte(nil), k.key...), '{')
			open := len(*prog)
			*prog = append(*prog, step{code: cOpen, key: key, opt: optional})
			c.tree(prog, k, depth+1)
			*prog = append(*prog, step{code: cClose, opt: optional, extra: c.extraAt(k, depth)})
			o := &(*prog)[open]
			o.jump = len(*prog)
			if optional && c.has == allNeeds && !c.extraAt(k, depth) {
				o.need = needsOf((*prog)[open+1 : o.jump-1])
			}
		case k.op == opStatic:
			if k.static == nil {
				continue
			}
			addStatic(prog, append(append([]byte(nil), k.key...), k.static...))
		case k.op == opField && k.field.kind == kStruct && !k.field.omitEmpty && depth+1 < maxDepth:
			compileStruct(prog, k.key, k.field, k.field.offset, depth+1)
		default:
			*prog = append(*prog, c.leafStep(k, k.key))
		}
	}
}

// empty reports an object all of whose leaves this record cannot fill.
func (c *compiler) empty(n *node) bool {
	for _, k := range n.kids {
		if k.op == opObject && !c.empty(k) || k.op != opObject && !c.skip(k) && !(k.op == opStatic && k.static == nil) {
			return false
		}
	}
	return true
}

// singleLeaf is the package's singleLeaf over the leaves this record can
// fill: an object whose other members it cannot fill is fused as well.
func (c *compiler) singleLeaf(n *node) (*node, []byte, int) {
	if n.op != opObject {
		return nil, nil, 0
	}
	var only *node
	for _, k := range n.kids {
		if c.skip(k) || k.op == opObject && c.empty(k) || k.op == opStatic && k.static == nil {
			continue
		}
		if only != nil {
			return nil, nil, 0
		}
		only = k
	}
	switch {
	case only == nil, only.op == opStatic:
		return nil, nil, 0
	case only.op == opObject:
		leaf, key, d := c.singleLeaf(only)
		if leaf == nil {
			return nil, nil, 0
		}
		return leaf, append(append(append([]byte(nil), n.key...), '{'), key...), d + 1
	}
	return only, append(append(append([]byte(nil), n.key...), '{'), only.key...), 1
}

// leafStep is the step writing the leaf n with key; in a program for a
// known kind of record it tests nothing about the record at run time.
func (c *compiler) leafStep(n *node, key []byte) step {
	s := leafStep(n, key)
	if c.has != allNeeds {
		s.need = 0
	}
	s.always = c.always(n)
	return s
}

// addStatic appends fixed bytes to the plan, merged into a cStatic step
// just before. Within merged bytes the commas are written out: none after
// an opening brace or before a closing one. A step that starts with a
// closing brace never takes a comma before it (raw).
func addStatic(prog *[]step, b []byte) {
	if last := len(*prog) - 1; last >= 0 && (*prog)[last].code == cStatic {
		prev := &(*prog)[last]
		if pb := prev.key[len(prev.key)-1]; pb != '{' && b[0] != '}' {
			prev.key = append(prev.key, ',')
		}
		prev.key = append(prev.key, b...)
		return
	}
	*prog = append(*prog, step{code: cStatic, key: b, raw: b[0] == '}'})
}

// compileStruct writes a nested struct stored in the event itself as an
// object of steps with absolute offsets, so its fields cost what top-level
// ones do.
func compileStruct(prog *[]step, key []byte, f *field, base uintptr, depth int) {
	addStatic(prog, append(append([]byte(nil), key...), '{'))
	for i := range f.sub {
		sf := &f.sub[i]
		if sf.kind == kStruct && !sf.omitEmpty && depth+1 < maxDepth {
			compileStruct(prog, sf.jsonKey, sf, base+sf.offset, depth+1)
			continue
		}
		s := fieldStep(sf, sf.jsonKey)
		s.off = base + sf.offset
		s.always = fieldAlways(sf)
		*prog = append(*prog, s)
	}
	addStatic(prog, []byte{'}'})
}

// need is a set of things a record may carry; a step that needs some of
// them writes nothing when the record has none of them, and run skips it
// (an object with all it holds) after one test.
type need uint16

const (
	needReason need = 1 << iota
	needWarning
	needStatus
	needTrace // TraceID or CorrelationID
	needSpan
	needTransaction
	needRequest
	needWorker
	needThread
	needCaller
	needLogger
	needErr
	needLabels
	needEventID
)

var recordNeeds = map[code]need{
	cReason: needReason, cWarning: needWarning, cStatusCode: needStatus, cTraceID: needTrace,
	cSpanID: needSpan, cTransaction: needTransaction, cRequestID: needRequest, cWorker: needWorker,
	cThreadID: needThread, cFile: needCaller, cLine: needCaller, cFunction: needCaller,
	cLogger: needLogger, cErrMessage: needErr, cErrType: needErr, cErrStack: needErr, cLabels: needLabels,
	cEventID: needEventID,
}

// needsOf is what an object holding steps needs: 0 when one of them may
// always write, else what any of them needs.
func needsOf(steps []step) need {
	var n need
	for i := range steps {
		s := &steps[i]
		if s.code == cClose {
			continue
		}
		if s.need == 0 {
			return 0
		}
		n |= s.need
	}
	return n
}

// needs is what rec (with the plan's and the fixed fields' labels) carries.
func (e *Encoder) needs(in *input) need {
	r := in.rec
	var n need
	if len(r.EventID) != 0 {
		n |= needEventID
	}
	if r.Base.Reason != "" {
		n |= needReason
	}
	if r.Base.Warning != "" {
		n |= needWarning
	}
	if r.Base.StatusCode != 0 {
		n |= needStatus
	}
	if r.TraceID != "" || r.CorrelationID != "" {
		n |= needTrace
	}
	if r.SpanID != "" {
		n |= needSpan
	}
	if r.TransactionID != "" {
		n |= needTransaction
	}
	if r.RequestID != "" {
		n |= needRequest
	}
	if r.Worker != "" {
		n |= needWorker
	}
	if r.ThreadID > 0 {
		n |= needThread
	}
	if r.File != "" {
		n |= needCaller
	}
	if r.Logger != "" || e.cfg.LoggerName != "" {
		n |= needLogger
	}
	if r.Base.Err != nil {
		n |= needErr
	}
	if len(in.plan.labels) != 0 || len(r.Labels) != 0 || len(in.fx.labelsOf()) != 0 ||
		r.CorrelationID != "" && r.TraceID != "" && r.CorrelationID != r.TraceID {
		n |= needLabels
	}
	return n
}

// leafStep is the step writing the leaf n with key.
func leafStep(n *node, key []byte) step {
	if n.op == opField {
		s := fieldStep(n.field, key)
		s.off = n.field.offset
		return s
	}
	c, ok := recordCodes[n.op]
	if !ok {
		panic("encode: no step for tree op " + strconv.Itoa(int(n.op)))
	}
	return step{code: c, key: key, index: n.index, need: recordNeeds[c]}
}

var recordCodes = map[op]code{
	opEventID: cEventID, opReason: cReason, opWarning: cWarning, opStatusCode: cStatusCode,
	opTraceID: cTraceID, opSpanID: cSpanID, opTransaction: cTransaction, opRequestID: cRequestID,
	opWorker: cWorker, opThreadID: cThreadID, opFile: cFile, opLine: cLine, opFunction: cFunction,
	opLogger: cLogger, opLabels: cLabels, opErrMessage: cErrMessage, opErrType: cErrType,
	opErrStack: cErrStack, opDynamic: cDynamic, opFixed: cFixed, opEncodeErrors: cEncodeErrors,
}

var fieldCodes = [...]code{
	kString: cString, kBool: cBool, kInt: cInt, kInt8: cInt8, kInt16: cInt16, kInt32: cInt32,
	kInt64: cInt64, kUint: cUint, kUint8: cUint8, kUint16: cUint16, kUint32: cUint32, kUint64: cUint64,
	kUintptr: cUintptr, kFloat32: cFloat32, kFloat64: cFloat64, kTime: cTime, kDuration: cInt64,
	kStringSlice: cStrings, kError: cError, kIP: cFieldSlow, kAddr: cFieldSlow,
	kStringer: cFieldSlow, kMethod: cFieldSlow, kAny: cFieldSlow, kStruct: cFieldSlow, kPtr: cFieldSlow, kReflect: cFieldSlow,
}

// fieldStep is the step writing the event field f with key; the caller sets
// its offset.
func fieldStep(f *field, key []byte) step {
	c := fieldCodes[f.kind]
	switch {
	case f.ipCheck && f.kind == kString:
		c = cIPString
	case f.ipCheck:
		c = cIPStrings
	case f.moved != nil:
		c = cMoved
	case f.seconds:
		c = cFieldSlow
	}
	return step{code: c, key: key, field: f,
		omit: f.omitEmpty || f.kind == kTime || f.ecsPath != "" && f.kind == kString}
}
