package encode

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pipelog/pipelog/event"
)

// An error value is user code: its Error, Unwrap and StackTrace methods may
// panic (a nil *T whose methods read fields is the common case) or loop
// (an Unwrap that returns its receiver). Every call below is guarded, and
// every walk is bounded by maxErrorDepth.

// maxErrorDepth bounds a walk down an error chain (and the recursion into
// errors.Join trees): a cycle ends there.
const maxErrorDepth = 64

// errorMessage is err.Error(), guarded. A typed nil pointer whose Error
// panics is written "<nil>" (as zap and slog write it), with a note; any
// other panic writes the type and the panic, with a note.
func (e *Encoder) errorMessage(err error, st *state) string { return e.errorMessageAt(err, st, 0) }

func (e *Encoder) errorMessageAt(err error, st *state, depth int) string {
	if errInfoOf(err).safe {
		return err.Error() // the standard library's: a stored string
	}
	s, r := callError(err)
	if r == nil {
		return s
	}
	if isNilPointer(err) {
		st.errs = append(st.errs, fmt.Sprintf("error: a nil %T was passed as an error", err))
		return "<nil>"
	}
	if u, ok := err.(interface{ Unwrap() []error }); ok && reflect.TypeOf(err) == joinErrorType && depth < maxErrorDepth {
		// errors.Join's message is its errors' messages, one a line: one of
		// them panicked; write the others and "<nil>" (or the panic) for it.
		var b strings.Builder
		for i, x := range unwrapMany(u) {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(e.errorMessageAt(x, st, depth+1))
		}
		return b.String()
	}
	st.errs = append(st.errs, fmt.Sprintf("error: %T's Error method panicked: %v", err, r))
	return fmt.Sprintf("%T (its Error method panicked)", err)
}

func callError(err error) (s string, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = r
		}
	}()
	return err.Error(), nil
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// unwrapOne calls err's Unwrap() error, guarded: a panic ends the chain.
func unwrapOne(u interface{ Unwrap() error }) (next error) {
	defer func() {
		if recover() != nil {
			next = nil
		}
	}()
	return u.Unwrap()
}

// unwrapMany calls err's Unwrap() []error, guarded.
func unwrapMany(u interface{ Unwrap() []error }) (next []error) {
	defer func() {
		if recover() != nil {
			next = nil
		}
	}()
	return u.Unwrap()
}

// callStackTrace calls StackTrace, guarded: a panic is no stack trace.
func callStackTrace(st event.StackTracer) (s string) {
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return st.StackTrace()
}

// errorTypeName names the most specific type in err's chain: the standard
// library's wrappers (fmt.Errorf's %w, errors.Join) say nothing about what
// went wrong, so the chain is walked past them to the first other type.
// For errors.Join the first joined error is followed.
func errorTypeName(err error) string {
	for depth := 0; err != nil && depth < maxErrorDepth; depth++ {
		ei := errInfoOf(err)
		if !ei.std {
			return ei.name
		}
		t := ei.t
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			errs := unwrapMany(u)
			err = nil
			for _, e := range errs {
				if e != nil {
					err = e
					break
				}
			}
		case interface{ Unwrap() error }:
			next := unwrapOne(u)
			if next == nil {
				return t.String()
			}
			err = next
		default:
			return t.String()
		}
	}
	return "error"
}

// The wrappers error.type looks past: fmt.Errorf's (one %w, several %w),
// errors.Join's, and the encoder's own stack attachment (WithStackTrace).
var (
	wrapErrorType   = reflect.TypeOf(fmt.Errorf("%w", errors.New("x")))
	wrapErrorsType  = reflect.TypeOf(fmt.Errorf("%w %w", errors.New("x"), errors.New("y")))
	joinErrorType   = reflect.TypeOf(errors.Join(errors.New("x")))
	stackAttachType = reflect.TypeFor[*stackAttached]()
)

// isStdWrapper compares types directly: a map lookup per error costs more
// than the four comparisons.
func isStdWrapper(t reflect.Type) bool {
	return t == wrapErrorType || t == wrapErrorsType || t == joinErrorType || t == stackAttachType
}

// stackTrace returns the first stack trace found in err's chain (depth
// first through errors.Join), or "".
func stackTrace(err error) string {
	return findStack(err, 0)
}

// findStack is errors.As without its allocation, for the one interface the
// encoder looks for on every error, starting depth levels down.
func findStack(err error, depth int) string {
	budget := 4 * maxErrorDepth // errors visited in all, so a wide Join tree ends too
	return findStackIn(err, depth, &budget)
}

func findStackIn(err error, depth int, budget *int) string {
	for ; err != nil && depth < maxErrorDepth && *budget > 0; depth++ {
		*budget--
		if ei := errInfoOf(err); !ei.stack && !ei.unwraps {
			return "" // the common case: a plain error, nothing to look for
		}
		if st, ok := err.(event.StackTracer); ok {
			if s := callStackTrace(st); s != "" || !isNilPointer(err) {
				return s
			}
			return "" // a typed nil has no stack and no chain to follow
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = unwrapOne(u)
		case interface{ Unwrap() []error }:
			for _, e := range unwrapMany(u) {
				if s := findStackIn(e, depth+1, budget); s != "" {
					return s
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// errInfo is what the encoder knows of an error type, found once per type:
// its name for error.type, and which of the walks above it needs.
type errInfo struct {
	t       reflect.Type
	name    string
	std     bool // a standard wrapper error.type looks past
	safe    bool // Error returns a stored string: no guard needed
	stack   bool // implements event.StackTracer
	unwraps bool // has Unwrap() error or Unwrap() []error
}

// errInfos holds every errInfo made; recentErrs, in front of it, the last
// few error types met, found by comparing type values (no hashing): a
// program logs few error types, and those over and over.
var (
	errInfos   sync.Map // reflect.Type → *errInfo
	recentErrs [4]atomic.Pointer[errInfo]
	recentNext atomic.Uint32
)

var (
	stackTracerType = reflect.TypeFor[event.StackTracer]()
	unwrapOneType   = reflect.TypeFor[interface{ Unwrap() error }]()
	unwrapManyType  = reflect.TypeFor[interface{ Unwrap() []error }]()
	plainErrorType  = reflect.TypeOf(errors.New("x"))
)

func errInfoOf(err error) *errInfo {
	t := reflect.TypeOf(err)
	for i := range recentErrs {
		if ei := recentErrs[i].Load(); ei != nil && ei.t == t {
			return ei
		}
	}
	return slowErrInfo(t)
}

func slowErrInfo(t reflect.Type) *errInfo {
	if v, ok := errInfos.Load(t); ok {
		ei := v.(*errInfo)
		recentErrs[recentNext.Add(1)%uint32(len(recentErrs))].Store(ei)
		return ei
	}
	ei := &errInfo{t: t, name: t.String(), std: isStdWrapper(t),
		safe:    t == plainErrorType || t == wrapErrorType || t == wrapErrorsType,
		stack:   t.Implements(stackTracerType),
		unwraps: t.Implements(unwrapOneType) || t.Implements(unwrapManyType)}
	if v, loaded := errInfos.LoadOrStore(t, ei); loaded {
		ei = v.(*errInfo)
	}
	recentErrs[recentNext.Add(1)%uint32(len(recentErrs))].Store(ei)
	return ei
}
