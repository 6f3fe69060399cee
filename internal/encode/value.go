package encode

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The generic value encoder: what a typed event's fields of type any,
// maps, slices of other types and values with JSON methods are written
// with, so that they get the treatment of the fields the encoder knows
// statically. encoding/json is not used: it writes times in local offsets
// and nanoseconds, escapes HTML, knows no key rule, recurses without
// bound and allocates a copy of every value.
//
//   - Times are UTC with at most microseconds; the zero time, a nil
//     pointer or interface and a zero or malformed address are left out of
//     objects (as at the top level) and null in arrays.
//   - Durations are integers of nanoseconds, addresses strings.
//   - Strings are cut at MaxStringBytes, invalid UTF-8 becomes U+FFFD, and
//     nothing is HTML-escaped.
//   - Keys follow the key rule (keys.go); a map's members are in key order.
//   - A value's MarshalJSON, MarshalText, Error or String (in that order)
//     is called behind a recover; MarshalJSON's output is parsed and
//     written again by these rules.
//   - Objects and arrays nest at most MaxValueDepth levels below the field
//     (deeper ones are left out, noted): Elasticsearch refuses a document
//     deeper than its index.mapping.depth.limit (20 by default), and a
//     cycle or a million-node list ends there instead of the stack.

// MaxValueDepth is how many levels of objects and arrays a value may nest
// below its field. With Pipelog, the event's object and the field itself,
// a line stays within Elasticsearch's default mapping depth limit of 20.
const MaxValueDepth = 16

// maxIndirections bounds the pointers and interfaces followed between two
// levels (a pointer to itself has no level in between).
const maxIndirections = 64

// maxMembers bounds the members of one object or array the encoder reads
// (a larger one is cut, noted); the line bound usually cuts first.
const maxMembers = 1 << 20

// walker writes one field's value. It holds its own notes rather than a
// pointer to the line's state, which would make the state escape (and
// allocate) on every line, not only on those that take this slow path.
type walker struct {
	e     *Encoder
	limit int    // the line's bound (state.limit)
	base  string // output path of the field, for notes
	path  []byte // the path below base of the value being written
	notes []string
}

// newWalker returns a walker for the value at path; call done when it has
// written it. The path below it grows only when the value has members, so
// a scalar costs no buffer.
func (e *Encoder) newWalker(st *state, path string) *walker {
	return &walker{e: e, limit: st.limit, base: path}
}

// done hands the walker's notes to the line's state.
func (w *walker) done(st *state) { st.errs = append(st.errs, w.notes...) }

func (w *walker) over(dst []byte) bool { return w.limit > 0 && len(dst) > w.limit }

func (w *walker) note(format string, args ...any) {
	at := w.base
	if len(w.path) > 0 {
		if at != "" {
			at += "."
		}
		at += string(w.path)
	}
	w.notes = append(w.notes, at+": "+fmt.Sprintf(format, args...))
}

// push appends key to the path; pop(n) restores it.
func (w *walker) push(key string) int {
	n := len(w.path)
	if n > 0 {
		w.path = append(w.path, '.')
	}
	w.path = append(w.path, key...)
	return n
}

func (w *walker) pop(n int) { w.path = w.path[:n] }

// Types the walker writes by type rather than by kind.
var (
	jsonNumberType = reflect.TypeFor[json.Number]()
	jsonObjectType = reflect.TypeFor[jsonObject]()
	anySliceType   = reflect.TypeFor[[]any]()
)

// jsonObject is an object parsed from a MarshalJSON method's output, its
// members in their order (duplicates included: the key rule decides).
type jsonObject []member

// member is one member of an object being written: its key as the source
// gave it and its value, already resolved (see resolve).
type member struct {
	key string
	v   reflect.Value
}

// absent reports a resolved value that is left out of an object.
func absent(v reflect.Value) bool { return !v.IsValid() }

// resolve follows pointers and interfaces and applies the value's JSON
// methods, so that what it returns is written by type and kind alone. An
// invalid Value means "nothing": a nil pointer or interface, a zero time
// or address, or a method that failed (noted).
func (w *walker) resolve(v reflect.Value) reflect.Value {
	for i := 0; ; i++ {
		if !v.IsValid() {
			return v
		}
		if i == maxIndirections {
			w.note("more than %d pointers in a row; left out", maxIndirections)
			return reflect.Value{}
		}
		switch v.Type() {
		case timeType:
			if v.Interface().(time.Time).IsZero() {
				return reflect.Value{}
			}
			return v
		case durationType, jsonNumberType, jsonObjectType:
			return v
		case ipType:
			a, ok := netip.AddrFromSlice(v.Bytes())
			if !ok {
				return reflect.Value{}
			}
			return reflect.ValueOf(a.Unmap())
		case addrType:
			if !v.Interface().(netip.Addr).IsValid() {
				return reflect.Value{}
			}
			return v
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return reflect.Value{}
			}
			if v.Kind() == reflect.Pointer && hasMethod(v.Type()) {
				return w.method(v)
			}
			v = v.Elem()
			continue
		}
		if hasMethod(v.Type()) {
			return w.method(v)
		}
		if reflect.PointerTo(v.Type()).Implements(jsonMarshaler) || reflect.PointerTo(v.Type()).Implements(textMarshaler) ||
			reflect.PointerTo(v.Type()).Implements(errorType) || reflect.PointerTo(v.Type()).Implements(stringerType) {
			// A pointer-receiver method: call it on a copy.
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			return w.method(p)
		}
		return v
	}
}

func hasMethod(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) || t.Implements(errorType) || t.Implements(stringerType)
}

// method writes v through the first of MarshalJSON, MarshalText, Error and
// String it has, guarded: a panic or an error is noted and v left out.
func (w *walker) method(v reflect.Value) (out reflect.Value) {
	x := v.Interface()
	defer func() {
		if r := recover(); r != nil {
			if isNilPointer(x) {
				out = reflect.ValueOf("<nil>")
				return
			}
			w.note("%T panicked: %s", x, PanicText(r))
			out = reflect.Value{}
		}
	}()
	switch m := x.(type) {
	case json.Marshaler:
		b, err := m.MarshalJSON()
		if err != nil {
			w.note("%T.MarshalJSON: %v", x, err)
			return reflect.Value{}
		}
		parsed, err := parseJSON(b)
		if err != nil {
			w.note("%T.MarshalJSON returned invalid JSON: %v", x, err)
			return reflect.Value{}
		}
		return reflect.ValueOf(parsed) // nil (JSON null) is invalid: left out
	case encoding.TextMarshaler:
		b, err := m.MarshalText()
		if err != nil {
			w.note("%T.MarshalText: %v", x, err)
			return reflect.Value{}
		}
		return reflect.ValueOf(string(b))
	case error:
		var st state
		msg := w.e.errorMessage(m, &st)
		w.notes = append(w.notes, st.errs...)
		return reflect.ValueOf(msg)
	case fmt.Stringer:
		return reflect.ValueOf(m.String())
	}
	return reflect.Value{}
}

// value writes the resolved value v, depth levels below the field.
func (w *walker) value(dst []byte, v reflect.Value, depth int) []byte {
	if !v.IsValid() {
		return append(dst, "null"...)
	}
	switch v.Type() {
	case timeType:
		return appendTimestamp(dst, v.Interface().(time.Time))
	case durationType:
		return strconv.AppendInt(dst, v.Int(), 10)
	case addrType:
		return appendAddr(dst, v.Interface().(netip.Addr))
	case jsonNumberType:
		return append(dst, v.String()...) // a literal the parser validated
	case jsonObjectType:
		return w.object(dst, v.Interface().(jsonObject), depth)
	}
	switch v.Kind() {
	case reflect.String:
		return appendString(dst, v.String(), w.e.max)
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			w.note("%v is not a JSON number; written as null", f)
			return append(dst, "null"...)
		}
		return appendFloat(dst, f, v.Type().Bits())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return append(dst, "null"...)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			// []byte: base64, as encoding/json writes it.
			return w.bytes(dst, v.Bytes())
		}
		return w.array(dst, v, depth)
	case reflect.Map:
		if v.IsNil() {
			return append(dst, "null"...)
		}
		return w.object(dst, w.mapMembers(v), depth)
	case reflect.Struct:
		return w.object(dst, w.structMembers(v, nil), depth)
	}
	w.note("a %s cannot be written as JSON; written as null", v.Type())
	return append(dst, "null"...)
}

func (w *walker) bytes(dst, b []byte) []byte {
	if max := w.e.max; max > 0 && base64.StdEncoding.EncodedLen(len(b)) > max {
		w.note("%d bytes cut to %d", len(b), max/4*3)
		b = b[:max/4*3]
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func (w *walker) array(dst []byte, v reflect.Value, depth int) []byte {
	if depth >= MaxValueDepth {
		w.note("nested deeper than %d levels (MaxValueDepth); left out", MaxValueDepth)
		return append(dst, "null"...)
	}
	n := v.Len()
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		if w.over(dst) || i == maxMembers {
			dst = dst[:len(dst)-1]
			w.note("cut after %d of %d elements to keep the line within its bound", i, n)
			break
		}
		dst = w.value(dst, w.resolve(v.Index(i)), depth+1)
	}
	return append(dst, ']')
}

// mapMembers lists a map's members in key order.
func (w *walker) mapMembers(v reflect.Value) []member {
	ms := make([]member, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		k, ok := w.mapKey(it.Key())
		if !ok {
			continue
		}
		ms = append(ms, member{key: k, v: it.Value()})
		if len(ms) == maxMembers {
			w.note("a map of %d members cut to %d", v.Len(), maxMembers)
			break
		}
	}
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
	for i := range ms {
		ms[i].v = w.resolve(ms[i].v)
	}
	return ms
}

// mapKey is a map key as a string: strings and integers as they are, a
// TextMarshaler's text, anything else as fmt prints it.
func (w *walker) mapKey(k reflect.Value) (string, bool) {
	switch k.Kind() {
	case reflect.String:
		if !k.Type().Implements(textMarshaler) {
			return k.String(), true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), true
	}
	r := w.resolve(k)
	if !r.IsValid() {
		w.note("a map key of type %s has no text; its member is left out", k.Type())
		return "", false
	}
	if r.Kind() == reflect.String {
		return r.String(), true
	}
	return fmt.Sprint(r.Interface()), true
}

// structMembers lists a struct's exported fields the way a typed event's
// are read: json tag names, "-" and omitempty honoured, embedded structs
// without a name inlined.
func (w *walker) structMembers(v reflect.Value, ms []member) []member {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		fv := v.Field(i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv, ft = fv.Elem(), ft.Elem()
			}
			if ft.Kind() == reflect.Struct && !hasMethod(ft) {
				ms = w.structMembers(fv, ms)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if strings.Contains(opts, "omitempty") && emptyValue(fv) {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		ms = append(ms, member{key: name, v: w.resolve(fv)})
	}
	return ms
}

// emptyValue is encoding/json's omitempty test.
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
