package encode

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/pipelog/pipelog/event"
)

// errorType names the most specific type in err's chain: the standard
// library's wrappers (fmt.Errorf's %w, errors.Join) say nothing about what
// went wrong, so the chain is walked past them to the first other type.
// For errors.Join the first joined error is followed.
func errorTypeName(err error) string {
	for depth := 0; err != nil && depth < 64; depth++ {
		t := reflect.TypeOf(err)
		if !isStdWrapper(t) {
			return t.String()
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			err = nil
			for _, e := range errs {
				if e != nil {
					err = e
					break
				}
			}
		case interface{ Unwrap() error }:
			next := u.Unwrap()
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
// encoder looks for on every error.
func findStack(err error, depth int) string {
	for ; err != nil && depth < 64; depth++ {
		if st, ok := err.(event.StackTracer); ok {
			return st.StackTrace()
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if s := findStack(e, depth+1); s != "" {
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
