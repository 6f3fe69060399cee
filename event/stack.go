package event

import "runtime"

// StackTracer is implemented by errors that carry a stack trace as text. The
// encoder writes the first one found while walking an error's chain to ECS
// error.stack_trace.
type StackTracer interface {
	StackTrace() string
}

// WithStack returns err annotated with the calling goroutine's stack, so the
// event that carries it gets error.stack_trace. A nil err stays nil. The
// result unwraps to err, so errors.Is and errors.As keep working.
func WithStack(err error) error {
	if err == nil {
		return nil
	}
	return &stackError{err: err, stack: captureStack()}
}

// PanicError is what a recovered panic becomes: Value is what was passed to
// panic, Stack the goroutine's stack at the recover.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string {
	if err, ok := e.Value.(error); ok {
		return "panic: " + err.Error()
	}
	return "panic: " + sprint(e.Value)
}

// StackTrace implements StackTracer.
func (e *PanicError) StackTrace() string { return e.Stack }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// NewPanicError wraps a recovered value with the current stack. Call it
// from the deferred function that recovered.
func NewPanicError(v any) *PanicError { return &PanicError{Value: v, Stack: captureStack()} }

type stackError struct {
	err   error
	stack string
}

func (e *stackError) Error() string      { return e.err.Error() }
func (e *stackError) Unwrap() error      { return e.err }
func (e *stackError) StackTrace() string { return e.stack }

func captureStack() string {
	buf := make([]byte, 8192)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			return string(buf[:n])
		}
		if len(buf) >= 1<<20 {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}
