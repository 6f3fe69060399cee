package encode

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/pipelog/pipelog/event"
)

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
	ipType        = reflect.TypeFor[net.IP]()
	addrType      = reflect.TypeFor[netip.Addr]()
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
//
// It reports everything Emit would: the type's own definition, and fields
// that claim what pipelog writes itself or collide in the line's tree,
// found by building the type's plan against an encoder that writes every
// field it can.
func Check(t reflect.Type) error { return checkEncoder().buildPlan(describe(t), nil).err }

var checkEncoder = sync.OnceValue(func() *Encoder {
	return NewEncoder(Config{ServiceName: "check", ServiceVersion: "v", ServiceEnvironment: "env",
		ServiceNodeName: "node", Dataset: "check", Hostname: "host", PID: 1, LoggerName: "logger"})
})

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
	ti.rootKey = rootKeyOf(ti.name)
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
	ti.slotIPFields(keys)
	for i := range ti.ecs {
		ti.ecs[i].setPath(ti.ecs[i].ecsPath)
	}
	for i := range ti.custom {
		ti.custom[i].setPath(pipelogRoot + "." + ti.rootKey + "." + ti.custom[i].key)
	}
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

// slotIPFields gives each string ip field a slot and a field of the same
// name in the custom namespace, where its value goes when it is not an
// address (see moveIP). keys are the custom keys taken.
func (ti *typeInfo) slotIPFields(keys map[string]string) {
	n := 0
	for i := range ti.ecs {
		f := &ti.ecs[i]
		if !f.ipCheck {
			continue
		}
		f.slot = -1
		// The field's own name, as the custom fields of an embedded struct
		// are keyed (not its Go path through the embedding).
		key := f.goName[strings.LastIndexByte(f.goName, '.')+1:]
		if _, taken := keys[key]; taken || n == 64 {
			continue // the value is then left out, with its note
		}
		f.slot = n
		n++
		keys[key] = f.goName
		m := *f
		m.ecsPath, m.ipCheck, m.key, m.moved = "", false, key, f
		ti.custom = append(ti.custom, m)
	}
	// ti.ecs is not appended to after this, so the moved pointers hold.
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

// eventName is the type's name. A generic type's name lists its type
// arguments with their import paths ("Gen[example.com/x/y.T]"); only each
// package's name is kept ("Gen[y.T]"), as Go prints it in errors.
func eventName(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		n = t.String()
	}
	if !strings.ContainsRune(n, '[') {
		return n
	}
	var b strings.Builder
	start := 0 // of the current identifier, with its import path
	for i := 0; i <= len(n); i++ {
		if i < len(n) && !strings.ContainsRune("[],* ", rune(n[i])) {
			continue
		}
		tok := n[start:i]
		if j := strings.LastIndexByte(tok, '/'); j >= 0 {
			tok = tok[j+1:]
		}
		b.WriteString(tok)
		if i < len(n) {
			b.WriteByte(n[i])
		}
		start = i + 1
	}
	return b.String()
}

// rootKeyOf is the event's key below Pipelog: one key segment, so a
// generic type's package-qualified arguments lose their dots.
func rootKeyOf(name string) string {
	return normSegment(strings.ReplaceAll(capitalise(name), ".", "_"))
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

// customKey is a json tag name as a key below Pipelog, by the key rule
// (see keys.go): dots nest.
func customKey(name string) string { return normKey(name) }
