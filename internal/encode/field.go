package encode

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// An event type's fields: how each is read and written (kind), and how its
// Go type is checked against its ECS field.

// kind says how a field's value is read and written. Every kind reads the
// value through an unsafe.Pointer at a known offset, so encoding a typed event
// walks no reflection on the hot path.
type kind uint8

const (
	kString kind = iota
	kBool
	kInt
	kInt8
	kInt16
	kInt32
	kInt64
	kUint
	kUint8
	kUint16
	kUint32
	kUint64
	kUintptr
	kFloat32
	kFloat64
	kTime
	kDuration
	kStringSlice
	kIP       // net.IP: an address, or nothing when empty
	kAddr     // netip.Addr: an address, or nothing when zero
	kError    // a field of interface type error
	kStringer // a field of interface type fmt.Stringer
	kMethod   // a concrete type with MarshalJSON, MarshalText, Error or String
	kAny      // any other interface: dynamic value, encoded by its dynamic type
	kStruct   // nested struct: an object of its own fields
	kPtr      // pointer: nil is skipped, otherwise the element is written
	kReflect  // anything else (maps, other slices, arrays): reflection + encoding/json
)

// field is one exported struct field of a typed event, resolved once per type.
type field struct {
	goName    string // Go field path, for error messages ("Req.Path")
	key       string // JSON key inside its parent object
	jsonKey   []byte // `"key":`, for nested struct fields
	ecsPath   string // ECS path from the ecs tag, "" for a custom field
	offset    uintptr
	kind      kind
	typ       reflect.Type
	omitEmpty bool
	sub       []field // kStruct: the nested fields
	elem      *field  // kPtr: the element
	path      string  // the full output path, for notes

	// seconds: a time.Duration written in whole seconds (the ECS uptime
	// fields), not nanoseconds.
	seconds bool
	// ipCheck: a string or []string on an ECS ip field, whose every value is
	// checked when written. One that is not an address moves the field to
	// its slot in the custom namespace (moved, the field written there).
	ipCheck bool
	slot    int
	moved   *field
}

// resolve sets f.kind (and sub/elem) from t.
func (f *field) resolve(t reflect.Type, depth int) error {
	if depth > 16 {
		return errors.New("nested more than 16 levels deep")
	}
	switch t {
	case timeType:
		f.kind = kTime
		return nil
	case durationType:
		f.kind = kDuration
		return nil
	case ipType:
		f.kind = kIP
		return nil
	case addrType:
		f.kind = kAddr
		return nil
	case errorType:
		f.kind = kError
		return nil
	case stringerType:
		f.kind = kStringer
		return nil
	}
	if t.Kind() != reflect.Interface && t.Kind() != reflect.Pointer &&
		(t.Implements(jsonMarshaler) || t.Implements(textMarshaler) || t.Implements(errorType) || t.Implements(stringerType) ||
			reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) ||
			reflect.PointerTo(t).Implements(errorType) || reflect.PointerTo(t).Implements(stringerType)) {
		f.kind = kMethod
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		f.kind = kString
	case reflect.Bool:
		f.kind = kBool
	case reflect.Int:
		f.kind = kInt
	case reflect.Int8:
		f.kind = kInt8
	case reflect.Int16:
		f.kind = kInt16
	case reflect.Int32:
		f.kind = kInt32
	case reflect.Int64:
		f.kind = kInt64
	case reflect.Uint:
		f.kind = kUint
	case reflect.Uint8:
		f.kind = kUint8
	case reflect.Uint16:
		f.kind = kUint16
	case reflect.Uint32:
		f.kind = kUint32
	case reflect.Uint64:
		f.kind = kUint64
	case reflect.Uintptr:
		f.kind = kUintptr
	case reflect.Float32:
		f.kind = kFloat32
	case reflect.Float64:
		f.kind = kFloat64
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String && !t.Elem().Implements(stringerType) {
			f.kind = kStringSlice
		} else {
			f.kind = kReflect
		}
	case reflect.Interface:
		f.kind = kAny
	case reflect.Pointer:
		f.kind = kPtr
		f.elem = &field{goName: f.goName, typ: t.Elem()}
		return f.elem.resolve(t.Elem(), depth+1)
	case reflect.Struct:
		f.kind = kStruct
		seen := map[string]bool{}
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" && opts == "" || sf.Tag.Get("ecs") == "-" {
				continue
			}
			sub := field{goName: f.goName + "." + sf.Name, key: sf.Name, offset: sf.Offset, typ: sf.Type,
				omitEmpty: strings.Contains(opts, "omitempty")}
			if name != "" {
				sub.key = customKey(name)
			}
			if strings.Contains(sub.key, ".") {
				// A dotted key nests: the generic value encoder builds
				// such objects (see keys.go).
				f.kind, f.sub = kReflect, nil
				return nil
			}
			sub.jsonKey = appendKey(nil, sub.key)
			if seen[sub.key] {
				return fmt.Errorf("two fields use the key %q", sub.key)
			}
			seen[sub.key] = true
			if err := sub.resolve(sf.Type, depth+1); err != nil {
				return fmt.Errorf("%s: %w", sf.Name, err)
			}
			f.sub = append(f.sub, sub)
		}
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("type %s cannot be written as JSON", t)
	default:
		f.kind = kReflect
	}
	return nil
}

// jsonTypeOf is the JSON shape a field kind produces, for checking against
// ECS types: "string", "integer", "number", "boolean", "date", "object",
// "array:<elem>", "duration", or "" when unknown until run time.
func jsonTypeOf(f *field) string {
	switch f.kind {
	case kString, kError, kStringer, kIP, kAddr:
		return "string"
	case kBool:
		return "boolean"
	case kInt, kInt8, kInt16, kInt32, kInt64, kUint, kUint8, kUint16, kUint32, kUint64, kUintptr:
		return "integer"
	case kFloat32, kFloat64:
		return "number"
	case kTime:
		return "date"
	case kDuration:
		return "duration"
	case kStringSlice:
		return "array:string"
	case kStruct:
		return "object"
	case kPtr:
		return jsonTypeOf(f.elem)
	case kMethod:
		if f.typ.Implements(jsonMarshaler) || reflect.PointerTo(f.typ).Implements(jsonMarshaler) {
			return ""
		}
		return "string"
	case kReflect:
		switch f.typ.Kind() {
		case reflect.Map:
			return "object"
		case reflect.Slice, reflect.Array:
			sub := field{typ: f.typ.Elem()}
			if sub.resolve(f.typ.Elem(), 1) == nil {
				return "array:" + jsonTypeOf(&sub)
			}
		}
	}
	return ""
}

// accepts lists the JSON shapes each ECS type takes.
func accepts(ecsType, shape string) bool {
	shape = strings.TrimPrefix(shape, "array:")
	switch ecsType {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text", "ip", "version":
		return shape == "string"
	case "long", "integer", "short", "byte", "unsigned_long":
		return shape == "integer"
	case "float", "double", "half_float", "scaled_float":
		return shape == "number" || shape == "integer"
	case "boolean":
		return shape == "boolean"
	case "date":
		return shape == "date"
	case "object", "flattened", "nested":
		return shape == "object"
	case "geo_point":
		return shape == "object" || shape == "string"
	}
	return false
}

// checkECSField checks that a field may be written at the ECS path and that
// its Go type fits the ECS type.
func checkECSField(path string, f *field) error {
	if strings.HasPrefix(path, "labels.") {
		if len(path) == len("labels.") || !labelKeyClean(path[len("labels."):]) {
			return fmt.Errorf("label key %q must be non-empty and contain no '.', '*' or '\\'", path)
		}
		if s := jsonTypeOf(f); s != "string" {
			return fmt.Errorf("ECS labels are keyword: %q needs a string type, not %s", path, f.typ)
		}
		return nil
	}
	typ, ok := fieldType(path)
	if !ok {
		if isECSObjectPath(path) {
			return fmt.Errorf("%q is an ECS field set, not a field: tag a leaf field such as %q", path, firstChild(path))
		}
		for p := path; ; {
			i := strings.LastIndexByte(p, '.')
			if i < 0 {
				break
			}
			p = p[:i]
			if isLeaf(p) {
				if t, _ := fieldType(p); t != "object" && t != "flattened" && t != "nested" {
					return fmt.Errorf("%q lies below the ECS leaf field %q (%s)", path, p, t)
				}
				return nil // free-form object: any sub-key, type unchecked
			}
		}
		return fmt.Errorf("%q is not an ECS %s field: remove the ecs tag to make it a custom field", path, Version)
	}
	shape := jsonTypeOf(f)
	if shape == "" {
		return fmt.Errorf("%s has no fixed JSON type, so it cannot be checked against ECS %q (%s); use a concrete type", f.typ, path, typ)
	}
	if shape == "duration" {
		unit, ok := durationUnits[path]
		if !ok {
			return fmt.Errorf("a time.Duration cannot go on ECS field %q (%s): ECS gives it no time unit; durations go on event.duration (nanoseconds) or the uptime fields (seconds)", path, typ)
		}
		leafOf(f).seconds = unit == time.Second
		return nil
	}
	if typ == "ip" {
		switch l := leafOf(f); {
		case l.kind == kIP || l.kind == kAddr:
		case f.kind == kString || f.kind == kStringSlice:
			f.ipCheck = true
		default:
			return fmt.Errorf("ECS field %q is an ip: it takes a string, []string, net.IP or netip.Addr, not %s", path, f.typ)
		}
		return nil
	}
	if !accepts(typ, shape) {
		return fmt.Errorf("Go type %s does not fit ECS field %q of type %s", f.typ, path, typ)
	}
	if strings.HasPrefix(shape, "array:") && (typ == "object" || typ == "flattened") {
		return fmt.Errorf("ECS field %q (%s) takes an object, not a list", path, typ)
	}
	return nil
}

// setPath sets the output path of f and of the fields below it.
func (f *field) setPath(path string) {
	f.path = path
	for i := range f.sub {
		f.sub[i].setPath(path + "." + f.sub[i].key)
	}
	if f.elem != nil {
		f.elem.setPath(path)
	}
}

// leafOf is f, or what f points to through pointers.
func leafOf(f *field) *field {
	for f.kind == kPtr {
		f = f.elem
	}
	return f
}

// durationUnits are the ECS fields a time.Duration may be written to, and
// the unit each is in: ECS types them all long, and only their descriptions
// say the unit (TestDurationUnitsMatchECS reads them).
var durationUnits = map[string]time.Duration{
	"event.duration":        time.Nanosecond,
	"process.uptime":        time.Second,
	"process.parent.uptime": time.Second,
	"host.uptime":           time.Second,
	"host.target.uptime":    time.Second,
	"dns.answers.ttl":       time.Second,
}

// DurationFits reports whether a time.Duration in nanoseconds may go on the
// ECS field path as it is (adapters, which encode durations before they
// know the field, place them only there).
func DurationFits(path string) bool { return durationUnits[path] == time.Nanosecond }

func firstChild(path string) string {
	best := ""
	for name := range ecsFieldTable {
		if strings.HasPrefix(name, path+".") && (best == "" || name < best) {
			best = name
		}
	}
	return best
}

func labelKeyClean(k string) bool { return !strings.ContainsAny(k, `.*\`) }
