package encode

import (
	"fmt"
	"net/netip"
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
	cIPString  // a string on an ECS ip field: checked, moved when not an address
	cIPStrings // the same for a []string
	cMoved     // the custom-namespace slot of an ip field, written when it moved
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
// keyed starts a leaf (or an object): a comma unless it is the first
// member of its object, then the key. A short key is written with two word
// stores into spare capacity (bytes past the key are overwritten later).
func keyed(dst []byte, s *step) []byte {
	if s.keyless {
		return dst
	}
	return appendFixed(comma(dst), s.key)
}

// appendFixed appends b, one of a step's fixed byte slices, which compile
// allocates with 16 bytes to spare (see pad): one that short is copied as
// one 16-byte word, not through memmove.
func appendFixed(dst, b []byte) []byte {
	n := len(dst)
	if len(b) <= 16 && cap(b) >= 16 && cap(dst)-n >= 16 {
		*(*[16]byte)(dst[n : n+16]) = *(*[16]byte)(b[:16])
		return dst[:n+len(b)]
	}
	return append(dst, b...)
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
		dst = appendFixed(comma(dst), s.qkey)
	}
	dst = append(dst, v...)
	dst = append(dst, '"')
	return fused(dst, s)
escape:
	if !s.keyless {
		dst = appendFixed(comma(dst), s.qkey)
	}
	dst = append(dst, v[:k]...)
	return fused(appendStringSlow(dst, v[k:]), s)
}

// fused closes the objects a fused leaf opened in its key.
func fused(dst []byte, s *step) []byte {
	if len(s.suffix) == 0 {
		return dst
	}
	return appendFixed(dst, s.suffix)
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
	r, p := in.rec, in.p
	for i := 0; i < len(prog); i++ {
		s := &prog[i]
		switch s.code {
		case cStatic:
			if !s.raw {
				dst = comma(dst)
			}
			dst = appendFixed(dst, s.key)
		case cOpen:
			if s.need != 0 && in.has&s.need == 0 {
				// Generic programs: the record can fill nothing in it.
				i = s.jump - 1
				continue
			}
			marks[depth] = len(dst)
			dst = appendFixed(comma(dst), s.key)
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
		case cErrMessage, cErrType, cErrStack:
			if err := r.Base.Err; err != nil {
				dst = e.appendErrorLeaf(dst, s, err, st)
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
				dst = fused(e.appendStrings(keyed(dst, s), s.field, v, st), s)
			}
		case cError:
			err := *(*error)(unsafe.Add(p, s.off))
			switch {
			case err != nil:
				dst = fused(appendString(keyed(dst, s), e.errorMessage(err, st), e.max), s)
			case !s.omit:
				dst = fused(append(keyed(dst, s), "null"...), s)
			}
		case cIPString:
			if v := *(*string)(unsafe.Add(p, s.off)); v != "" {
				if isAddr(v) {
					dst = keyString(dst, s, v, e.max)
				} else {
					e.moveIP(s.field, v, st)
				}
			}
		case cIPStrings:
			if v := *(*[]string)(unsafe.Add(p, s.off)); len(v) != 0 {
				if bad := firstNonAddr(v); bad < 0 {
					dst = fused(e.appendStrings(keyed(dst, s), s.field, v, st), s)
				} else {
					e.moveIP(s.field, v[bad], st)
				}
			}
		case cMoved:
			if st.moved&(1<<s.field.moved.slot) != 0 {
				dst = fused(e.appendValue(append(comma(dst), s.key...), s.field, unsafe.Add(p, s.off), nil, st), s)
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

// appendErrorLeaf writes error.message, error.type or error.stack_trace
// (s.code says which) of err. What the encoder knows of err's type is
// looked up once per line (state.ei).
func (e *Encoder) appendErrorLeaf(dst []byte, s *step, err error, st *state) []byte {
	ei := st.ei
	if ei == nil {
		ei = errInfoOf(err)
		st.ei = ei
	}
	switch s.code {
	case cErrMessage:
		if ei.safe {
			return e.leafString(dst, s, err.Error())
		}
		return e.leafString(dst, s, e.errorMessage(err, st))
	case cErrType:
		if ei.std {
			return e.leafString(dst, s, errorTypeName(err))
		}
		return e.leafString(dst, s, ei.name)
	}
	if ei.stack || ei.unwraps {
		return e.leafString(dst, s, stackTrace(err))
	}
	return dst
}

// isAddr reports whether s is an IPv4 or IPv6 address, as Elasticsearch's
// ip type takes it.
func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// firstNonAddr is the index of the first value of v that is not an
// address, or -1.
func firstNonAddr(v []string) int {
	for i, x := range v {
		if !isAddr(x) {
			return i
		}
	}
	return -1
}

// moveIP notes that the ip field f held bad, which is not an address, and
// marks f's slot in the custom namespace, which writes it there.
func (e *Encoder) moveIP(f *field, bad string, st *state) {
	where := "left out"
	if f.slot >= 0 {
		st.moved |= 1 << f.slot
		where = "written to its custom field instead"
	}
	st.errs = append(st.errs, fmt.Sprintf("%s (%s): %.64q is not an IP address; the field is %s", f.ecsPath, f.goName, bad, where))
}

// A line's notes are bounded: a map of a million colliding keys must not
// make a line of a million notes.
const (
	maxNotes     = 32
	maxNoteBytes = 1024
)

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
		if i == maxNotes {
			dst = appendString(dst, fmt.Sprintf("… and %d more", len(st.errs)-maxNotes), 0)
			break
		}
		dst = appendString(dst, m, min(e.max, maxNoteBytes))
	}
	return fused(append(dst, ']'), s)
}
