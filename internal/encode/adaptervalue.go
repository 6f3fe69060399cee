package encode

import "time"

// Values adapters encode outside an Attrs (zap's arrays), and the stack
// a logging library captured for an error.

// ShapeOf says what JSON value v is: ShapeString, ShapeObject, ShapeBool,
// ShapeNull, ShapeInteger or ShapeNumber, or "array:<shape of the first
// element>" ("array:" for an empty array).
func ShapeOf(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		return ShapeString
	case '{':
		return ShapeObject
	case 't', 'f':
		return ShapeBool
	case 'n':
		return ShapeNull
	case '[':
		if len(v) > 1 {
			switch v[1] {
			case '"':
				return "array:" + ShapeString
			case '{':
				return "array:" + ShapeObject
			case 't', 'f':
				return "array:" + ShapeBool
			case ']':
				return "array:"
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return "array:" + ShapeNumber
			}
		}
		return "array:"
	}
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return ShapeNumber
		}
	}
	return ShapeInteger
}

// AppendStringValue appends s as a JSON string the way the encoder writes
// every string (escaped, invalid UTF-8 replaced, cut at MaxStringBytes).
func (e *Encoder) AppendStringValue(dst []byte, s string) []byte {
	return appendString(dst, s, e.max)
}

// AppendFloatValue appends f as a JSON number, null for NaN and ±Inf.
func AppendFloatValue(dst []byte, f float64, bits int) []byte { return appendFloat(dst, f, bits) }

// AppendTimeValue appends t the way @timestamp is written.
func AppendTimeValue(dst []byte, t time.Time) []byte { return appendTimestamp(dst, t) }

// AppendAnyValue appends v as AddAny encodes it; problems are appended to
// *probs.
func (e *Encoder) AppendAnyValue(dst []byte, name string, v any, probs *[]string) []byte {
	return e.appendAnyValue(dst, name, v, probs)
}

func (e *Encoder) appendAnyValue(dst []byte, name string, v any, probs *[]string) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	st := state{errs: *probs}
	f := field{goName: name}
	dst = e.appendDynamic(dst, &f, v, &st)
	*probs = st.errs
	return dst
}

// WithStackTrace returns err carrying stack for error.stack_trace (unless
// err's chain has a stack of its own, which is preferred). error.message and
// error.type are err's: the wrapper is transparent to the encoder, like
// fmt.Errorf's %w. Adapters use it for a stack captured by the logging
// library (zap's AddStacktrace). A nil err stays nil.
func WithStackTrace(err error, stack string) error {
	if err == nil || stack == "" {
		return err
	}
	return &stackAttached{err: err, stack: stack}
}

type stackAttached struct {
	err   error
	stack string
}

func (e *stackAttached) Error() string { return e.err.Error() }

func (e *stackAttached) Unwrap() error { return e.err }

// StackTrace implements event.StackTracer.
func (e *stackAttached) StackTrace() string {
	if s := findStack(e.err, 0); s != "" {
		return s
	}
	return e.stack
}
