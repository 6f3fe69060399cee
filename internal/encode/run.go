package encode

import (
	"bytes"
	"slices"
	"strconv"
	"time"
	"unsafe"
)

// code says what one step of a compiled plan writes.
type code uint8

const (
	cStatic code = iota // key holds pre-encoded members, written as they are
	cOpen               // key is `"k":{`; opt, cond and jump say when it is left out
	cClose

	// Record leaves.
	cEventID
	cReason
	cWarning
	cStatusCode
	cTraceID
	cSpanID
	cTransaction
	cRequestID
	cWorker
	cThreadID
	cFile
	cLine
	cFunction
	cLogger
	cLabels
	cErrMessage
	cErrType
	cErrStack
	cDynamic
	cFixed
	cEncodeErrors

	// A typed event's fields, read in place at off: one step per kind that
	// needs neither reflection nor a method, so the common fields cost a
	// load and an append.
	cString
	cBool
	cInt
	cInt8
	cInt16
	cInt32
	cInt64 // also time.Duration
	cUint
	cUint8
	cUint16
	cUint32
	cUint64
	cUintptr
	cFloat32
	cFloat64
	cTime
	cStrings
	cError
	cFieldSlow // any other kind: appendField
)

// step is one instruction of a compiled plan.
type step struct {
	code   code
	raw    bool // cStatic: no comma before it (it starts with a closing brace)
	omit   bool // event fields: an empty value writes nothing
	opt    bool // cOpen/cClose: the object may end up empty and is then left out
	extra  bool // cClose of Pipelog: adapters' custom members go in first
	need   need // what the record must carry for the step to write anything (0: it may always write)
	jump   int  // cOpen: the index after the matching cClose
	index  int  // cDynamic: field index; cFixed: slot
	off    uintptr
	key    []byte // `"k":`, `"a":{"b":` for a leaf fused with the objects around it, `"k":{` for cOpen
	suffix []byte // a fused leaf's closing braces
	field  *field // event fields
	qkey   []byte // key and the opening quote of a string value: one copy for both

	// always: the step writes on every line this program is for.
	// keyless: its comma, key (and a string's opening quote) were moved
	// into the fixed bytes before it (see stitch), so it writes its value
	// and suffix only.
	always  bool
	keyless bool
}

// compile flattens the key tree below n into steps. Consecutive fixed fields
// become one copy; an object holding a fixed field can never be empty, so it
// needs no roll-back check; an object around exactly one optional field
// ("trace":{"id":…}) is written as that field with a longer key; a nested
// struct of an event is flattened into its fields.
// compile compiles the tree for records that carry exactly has (all: a
// generic program that tests at run time what each record carries).
func compile(prog *[]step, n *node, depth int, has need) {
	compileSteps(prog, n, depth, has)
	*prog = stitch(*prog)
}

// compileSteps is compile without stitch: every leaf with its own key.
func compileSteps(prog *[]step, n *node, depth int, has need) {
	c := compiler{has: has}
	c.tree(prog, n, depth)
	for i := range *prog {
		if s := &(*prog)[i]; len(s.key) != 0 {
			s.qkey = append(append(make([]byte, 0, len(s.key)+1), s.key...), '"')
		}
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
		// suffixes now own bytes of their own: no slice is shared
		out[i].suffix = slices.Clip(out[i].suffix)
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
type compiler struct{ has need }

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
		case k.op == opObject && c.always(k) && !(depth == 0 && k.name == pipelogRoot):
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
			*prog = append(*prog, step{code: cClose, opt: optional, extra: depth == 0 && k.name == pipelogRoot})
			o := &(*prog)[open]
			o.jump = len(*prog)
			if optional && c.has == allNeeds && !(depth == 0 && k.name == pipelogRoot) {
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
	kStringSlice: cStrings, kError: cError,
	kStringer: cFieldSlow, kMethod: cFieldSlow, kAny: cFieldSlow, kStruct: cFieldSlow, kPtr: cFieldSlow, kReflect: cFieldSlow,
}

// fieldStep is the step writing the event field f with key; the caller sets
// its offset.
func fieldStep(f *field, key []byte) step {
	return step{code: fieldCodes[f.kind], key: key, field: f,
		omit: f.omitEmpty || f.kind == kTime || f.ecsPath != "" && f.kind == kString}
}

// keyed starts a leaf (or an object): a comma unless it is the first
// member of its object, then the key. A short key is written with two word
// stores into spare capacity (bytes past the key are overwritten later).
func keyed(dst []byte, s *step) []byte {
	if s.keyless {
		return dst
	}
	return append(comma(dst), s.key...)
}

// keyString writes a string leaf: comma, key, the quoted string, the fused
// suffix.
//
// It is the most common step of every line, so the check of the string is
// written out here rather than called: one call per string leaf.
func keyString(dst []byte, s *step, v string, max int) []byte {
	if max > 0 && len(v) > max {
		if s.keyless {
			return fused(appendCutBody(dst, v, max), s)
		}
		return fused(appendCut(keyed(dst, s), v, max), s)
	}
	k := 0
	if len(v) >= 8 {
		for ; k+8 <= len(v); k += 8 {
			if needsEscapeWord(load8(v, k)) {
				goto escape
			}
		}
		if k < len(v) && needsEscapeWord(load8(v, len(v)-8)) {
			goto escape
		}
	} else {
		for ; k < len(v); k++ {
			if !safeASCII[v[k]] {
				goto escape
			}
		}
	}
	if !s.keyless {
		dst = append(comma(dst), s.qkey...)
	}
	dst = append(dst, v...)
	dst = append(dst, '"')
	return fused(dst, s)
escape:
	if !s.keyless {
		dst = append(comma(dst), s.qkey...)
	}
	dst = append(dst, v[:k]...)
	return fused(appendStringSlow(dst, v[k:]), s)
}

// fused closes the objects a fused leaf opened in its key.
func fused(dst []byte, s *step) []byte {
	if len(s.suffix) == 0 {
		return dst
	}
	return append(dst, s.suffix...)
}

func (e *Encoder) leafString(dst []byte, s *step, v string) []byte {
	if v == "" {
		return dst
	}
	return keyString(dst, s, v, e.max)
}

func leafInt(dst []byte, s *step, v int64) []byte {
	return fused(strconv.AppendInt(keyed(dst, s), v, 10), s)
}

func leafUint(dst []byte, s *step, v uint64) []byte {
	return fused(strconv.AppendUint(keyed(dst, s), v, 10), s)
}

// run executes a plan's steps: one loop over contiguous memory, with the
// common leaves written inline rather than through a chain of calls.
func (e *Encoder) run(dst []byte, prog []step, in *input, st *state) []byte {
	var marks, inner [maxDepth]int
	depth := 0
	r, p, has := in.rec, in.p, in.has
	for i := 0; i < len(prog); i++ {
		s := &prog[i]
		if s.need != 0 && has&s.need == 0 {
			if s.code == cOpen {
				i = s.jump - 1 // the whole object would write nothing
			}
			continue
		}
		switch s.code {
		case cStatic:
			if !s.raw {
				dst = comma(dst)
			}
			dst = append(dst, s.key...)
		case cOpen:
			marks[depth] = len(dst)
			dst = append(comma(dst), s.key...)
			inner[depth] = len(dst)
			depth++
		case cClose:
			depth--
			if s.extra && len(in.extra) > 0 {
				dst = append(comma(dst), in.extra...)
			}
			if s.opt && len(dst) == inner[depth] {
				dst = dst[:marks[depth]] // nothing inside: leave the object out
			} else {
				dst = append(dst, '}')
			}

		case cEventID:
			if len(r.EventID) != 0 {
				// A string view of the ID bytes, which nothing modifies
				// during the call; minted IDs are hex digits, others are
				// escaped like any string.
				dst = keyString(dst, s, unsafe.String(unsafe.SliceData(r.EventID), len(r.EventID)), e.max)
			}
		case cReason:
			dst = e.leafString(dst, s, r.Base.Reason)
		case cWarning:
			dst = e.leafString(dst, s, r.Base.Warning)
		case cStatusCode:
			if r.Base.StatusCode != 0 {
				dst = leafInt(dst, s, int64(r.Base.StatusCode))
			}
		case cTraceID:
			if r.TraceID != "" {
				dst = e.leafString(dst, s, r.TraceID)
			} else {
				dst = e.leafString(dst, s, r.CorrelationID)
			}
		case cSpanID:
			dst = e.leafString(dst, s, r.SpanID)
		case cTransaction:
			dst = e.leafString(dst, s, r.TransactionID)
		case cRequestID:
			dst = e.leafString(dst, s, r.RequestID)
		case cWorker:
			dst = e.leafString(dst, s, r.Worker)
		case cThreadID:
			if r.ThreadID > 0 {
				dst = leafInt(dst, s, r.ThreadID)
			}
		case cFile:
			dst = e.leafString(dst, s, r.File)
		case cLine:
			if r.File != "" && r.Line > 0 {
				dst = leafInt(dst, s, int64(r.Line))
			}
		case cFunction:
			if r.File != "" {
				dst = e.leafString(dst, s, r.Function)
			}
		case cLogger:
			if r.Logger != "" {
				dst = e.leafString(dst, s, r.Logger)
			} else {
				dst = e.leafString(dst, s, e.cfg.LoggerName)
			}
		case cLabels:
			dst = fused(e.appendLabels(dst, s, in, st), s)
		case cErrMessage:
			if r.Base.Err != nil {
				dst = e.leafString(dst, s, e.safeError(r.Base.Err, st))
			}
		case cErrType:
			if r.Base.Err != nil {
				dst = e.leafString(dst, s, errorTypeName(r.Base.Err))
			}
		case cErrStack:
			if r.Base.Err != nil {
				dst = e.leafString(dst, s, stackTrace(r.Base.Err))
			}
		case cDynamic:
			dst = fused(append(keyed(dst, s), in.dyn.fields[s.index].Value...), s)
		case cFixed:
			dst = fused(append(keyed(dst, s), in.fx.vals[s.index]...), s)
		case cEncodeErrors:
			dst = e.appendEncodeErrors(dst, s, st)

		case cString:
			v := *(*string)(unsafe.Add(p, s.off))
			if v != "" || !s.omit {
				dst = keyString(dst, s, v, e.max)
			}
		case cBool:
			v := *(*bool)(unsafe.Add(p, s.off))
			if v || !s.omit {
				dst = fused(strconv.AppendBool(keyed(dst, s), v), s)
			}
		case cInt:
			if v := *(*int)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafInt(dst, s, int64(v))
			}
		case cInt8:
			if v := *(*int8)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafInt(dst, s, int64(v))
			}
		case cInt16:
			if v := *(*int16)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafInt(dst, s, int64(v))
			}
		case cInt32:
			if v := *(*int32)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafInt(dst, s, int64(v))
			}
		case cInt64:
			if v := *(*int64)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafInt(dst, s, v)
			}
		case cUint:
			if v := *(*uint)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafUint(dst, s, uint64(v))
			}
		case cUint8:
			if v := *(*uint8)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafUint(dst, s, uint64(v))
			}
		case cUint16:
			if v := *(*uint16)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafUint(dst, s, uint64(v))
			}
		case cUint32:
			if v := *(*uint32)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafUint(dst, s, uint64(v))
			}
		case cUint64:
			if v := *(*uint64)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafUint(dst, s, v)
			}
		case cUintptr:
			if v := *(*uintptr)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = leafUint(dst, s, uint64(v))
			}
		case cFloat32:
			if v := *(*float32)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = fused(appendFloat(keyed(dst, s), float64(v), 32), s)
			}
		case cFloat64:
			if v := *(*float64)(unsafe.Add(p, s.off)); v != 0 || !s.omit {
				dst = fused(appendFloat(keyed(dst, s), v, 64), s)
			}
		case cTime:
			// The zero time is never a real value: always left out.
			if t := (*time.Time)(unsafe.Add(p, s.off)); !t.IsZero() {
				dst = fused(appendTimestamp(keyed(dst, s), *t), s)
			}
		case cStrings:
			v := *(*[]string)(unsafe.Add(p, s.off))
			if len(v) != 0 || !s.omit {
				dst = append(keyed(dst, s), '[')
				for j, x := range v {
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = appendString(dst, x, e.max)
				}
				dst = fused(append(dst, ']'), s)
			}
		case cError:
			err := *(*error)(unsafe.Add(p, s.off))
			switch {
			case err != nil:
				dst = fused(appendString(keyed(dst, s), e.safeError(err, st), e.max), s)
			case !s.omit:
				dst = fused(append(keyed(dst, s), "null"...), s)
			}
		case cFieldSlow:
			before := len(dst)
			dst = e.appendField(dst, s.key, s.field, unsafe.Add(p, s.off), offsetOf(st.box, s.off), st)
			if len(dst) != before {
				dst = fused(dst, s)
			}
		}
	}
	return dst
}

// appendEncodeErrors writes Pipelog.encode_errors, when there are any.
func (e *Encoder) appendEncodeErrors(dst []byte, s *step, st *state) []byte {
	if len(st.errs) == 0 {
		return dst
	}
	dst = append(keyed(dst, s), '[')
	for i, m := range st.errs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, m, e.max)
	}
	return fused(append(dst, ']'), s)
}
