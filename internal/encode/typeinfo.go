package encode

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/pipelog/pipelog/event"
)

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
}

// typeInfo is what a Go event type looks like to the encoder. It is computed
// once per type and shared by every Encoder.
type typeInfo struct {
	typ     reflect.Type
	name    string  // event name: the type's name
	rootKey string  // key under Pipelog: the name with a capital first letter
	baseOff uintptr // offset of the embedded event.Base (or *event.Base)
	hasBase bool
	basePtr bool    // the event embeds *event.Base
	ptr     bool    // the event type is a pointer to the struct described here
	ecs     []field // fields tagged with an ECS path
	custom  []field // untagged fields, written under Pipelog.<rootKey>
	err     error   // what is wrong with the type's tags; the bad fields are left out

	// needsBox: some field stored in the event value itself (not behind a
	// pointer) can only be read through reflection (a value with methods, a
	// map, a slice other than []string, an array), which needs a pointer it
	// may keep. Emit then hands the encoder a heap copy of the event for those
	// fields (see AppendEvent); every other field is read in place.
	needsBox bool

	id   int       // small, unique per type: the index of its plans in an Encoder
	key  uintptr   // address of the reflect.Type's descriptor, for the lookup cache
	elem *typeInfo // pointer types: the struct's info, whose zero value a nil event writes
	zero unsafe.Pointer
}

var (
	baseType      = reflect.TypeFor[event.Base]()
	basePtrType   = reflect.TypeFor[*event.Base]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	errorType     = reflect.TypeFor[error]()
	stringerType  = reflect.TypeFor[fmt.Stringer]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// typeInfos caches typeInfo by reflect.Type. Entries are immutable; the cache
// only grows, by one entry per event type a program defines.
var (
	typeInfos   sync.Map // reflect.Type → *typeInfo
	typeInfoMu  sync.Mutex
	typeInfoIDs []*typeInfo // by id; written under typeInfoMu
)

// ErrInvalidEvent wraps every error about an event type's definition.
var ErrInvalidEvent = errors.New("ecs: invalid event type")

// Check reports what is wrong with the event type t, or nil (ecs.Check).
func Check(t reflect.Type) error { return describe(t).err }

// FieldType returns the ECS type of the field name and whether it is one.
func FieldType(name string) (typ string, ok bool) { return fieldType(name) }

func describe(t reflect.Type) *typeInfo {
	if v, ok := typeInfos.Load(t); ok {
		return v.(*typeInfo)
	}
	var elem *typeInfo
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		elem = describe(t.Elem()) // before taking the lock: it takes it too
	}
	typeInfoMu.Lock()
	defer typeInfoMu.Unlock()
	if v, ok := typeInfos.Load(t); ok {
		return v.(*typeInfo)
	}
	ti := buildTypeInfo(t, elem)
	ti.id = len(typeInfoIDs)
	typeInfoIDs = append(typeInfoIDs, ti)
	ti.key = reflect.ValueOf(t).Pointer()
	switch {
	case t.Kind() == reflect.Struct:
		ti.zero = reflect.New(t).UnsafePointer()
	case elem != nil:
		ti.zero = elem.zero
	}
	typeInfos.Store(t, ti)
	return ti
}

func buildTypeInfo(t reflect.Type, e *typeInfo) *typeInfo {
	if e != nil {
		// A pointer event (Emit(ctx, log, &ev)) reads the struct it points
		// to; a nil pointer writes the struct's zero value (see AppendEvent).
		return &typeInfo{typ: t, name: e.name, rootKey: e.rootKey, baseOff: e.baseOff, hasBase: e.hasBase,
			basePtr: e.basePtr, ptr: true, ecs: e.ecs, custom: e.custom, err: e.err, elem: e}
	}
	ti := &typeInfo{typ: t, name: eventName(t)}
	ti.rootKey = capitalise(ti.name)
	var errs []error
	if t.Kind() != reflect.Struct {
		ti.err = fmt.Errorf("%w %s: not a struct", ErrInvalidEvent, t)
		return ti
	}
	if err := ti.findBase(t); err != nil {
		errs = append(errs, err)
	}
	keys := map[string]string{}
	paths := map[string]string{}
	var walk func(t reflect.Type, off uintptr, prefix string)
	walk = func(t reflect.Type, off uintptr, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if sf.Anonymous && (sf.Type == baseType || sf.Type == basePtrType) {
				continue
			}
			if !sf.IsExported() && !(sf.Anonymous && sf.Type.Kind() == reflect.Struct) {
				continue
			}
			ecsTag, hasECS := sf.Tag.Lookup("ecs")
			jsonName, jsonOpts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if ecsTag == "-" || jsonName == "-" && jsonOpts == "" {
				continue
			}
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct && !hasECS && jsonName == "" {
				walk(sf.Type, off+sf.Offset, prefix+sf.Name+".")
				continue
			}
			if !sf.IsExported() {
				continue
			}
			ecsPath, ecsOpts, _ := strings.Cut(ecsTag, ",")
			f := field{
				goName:    prefix + sf.Name,
				offset:    off + sf.Offset,
				typ:       sf.Type,
				omitEmpty: strings.Contains(ecsOpts, "omitempty") || strings.Contains(jsonOpts, "omitempty"),
			}
			if err := f.resolve(sf.Type, 0); err != nil {
				errs = append(errs, fmt.Errorf("field %s: %w", f.goName, err))
				continue
			}
			if hasECS && ecsPath != "" {
				if err := checkECSField(ecsPath, &f); err != nil {
					errs = append(errs, fmt.Errorf("field %s: %w", f.goName, err))
					continue
				}
				if other, dup := paths[ecsPath]; dup {
					errs = append(errs, fmt.Errorf("fields %s and %s both claim ECS field %q", other, f.goName, ecsPath))
					continue
				}
				paths[ecsPath] = f.goName
				f.ecsPath = ecsPath
				ti.ecs = append(ti.ecs, f)
				continue
			}
			f.key = sf.Name
			if jsonName != "" {
				f.key = customKey(jsonName)
			}
			if other, dup := keys[f.key]; dup {
				errs = append(errs, fmt.Errorf("fields %s and %s both use the key %q", other, f.goName, f.key))
				continue
			}
			keys[f.key] = f.goName
			ti.custom = append(ti.custom, f)
		}
	}
	walk(t, 0, "")
	for i := range ti.ecs {
		ti.needsBox = ti.needsBox || needsPointer(&ti.ecs[i])
	}
	for i := range ti.custom {
		ti.needsBox = ti.needsBox || needsPointer(&ti.custom[i])
	}
	if len(errs) > 0 {
		ti.err = fmt.Errorf("%w %s: %w", ErrInvalidEvent, t, errors.Join(errs...))
	}
	return ti
}

// findBase locates the embedded event.Base the way Go's promotion rules do
// (the shallowest embedded field named Base), which is also where
// event.Event's method comes from.
func (ti *typeInfo) findBase(t reflect.Type) error {
	sf, ok := t.FieldByName("Base")
	if !ok || !sf.Anonymous || sf.Type != baseType && sf.Type != basePtrType {
		return errors.New("it does not embed event.Base")
	}
	cur, off := t, uintptr(0)
	for i, idx := range sf.Index {
		f := cur.Field(idx)
		if i < len(sf.Index)-1 && f.Type.Kind() != reflect.Struct {
			return fmt.Errorf("it reaches event.Base through the pointer field %s; embed that struct by value", f.Name)
		}
		off += f.Offset
		cur = f.Type
	}
	ti.hasBase, ti.baseOff, ti.basePtr = true, off, sf.Type == basePtrType
	return nil
}

// needsPointer reports whether writing f, stored in the event value itself,
// needs reflection on a pointer to it (see typeInfo.needsBox). Fields behind
// a pointer do not: what they point to is not the event's own memory.
func needsPointer(f *field) bool {
	switch f.kind {
	case kMethod, kReflect:
		return true
	case kStruct:
		if f.omitEmpty {
			return true // isEmpty asks reflect whether the struct is zero
		}
		for i := range f.sub {
			if needsPointer(&f.sub[i]) {
				return true
			}
		}
	}
	return false
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
	case kString, kError, kStringer:
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
		return shape == "integer" || shape == "duration"
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
	if !accepts(typ, shape) {
		return fmt.Errorf("Go type %s does not fit ECS field %q of type %s", f.typ, path, typ)
	}
	if strings.HasPrefix(shape, "array:") && (typ == "object" || typ == "flattened") {
		return fmt.Errorf("ECS field %q (%s) takes an object, not a list", path, typ)
	}
	return nil
}

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

func eventName(t reflect.Type) string {
	if n := t.Name(); n != "" {
		return n
	}
	return t.String()
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		if r == utf8.RuneError {
			return "E" + s
		}
		return s
	}
	u := unicode.ToUpper(r)
	if u == r { // not a letter with a capital: keep the root clear of ECS names
		return "E_" + s
	}
	return string(u) + s[n:]
}

// customKey makes a json tag name safe as a key below Pipelog: the
// ecs-logging spec allows dots only in the top-level log.level and
// ecs.version, so a dot becomes '_' (Elasticsearch would otherwise expand
// "a.b" into an object and could collide with a sibling "a").
func customKey(name string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(name, ".", "_"), "\uFFFD")
}
