package encode

import (
	"reflect"
	"strings"
)

// What the encoder writes for a type, as data: the mapping generator
// (ecs/esmapping) reads it instead of re-deriving the encoder's rules, so the
// two cannot drift apart. Everything here reads the same typeInfo and field
// descriptions the encoder runs on; only values the generic value encoder
// writes (maps, slices other than []string, arrays, interfaces) are
// described with that encoder's rules, because that is what writes them.

// ValueKind is the JSON a written value is, and what it means.
type ValueKind uint8

const (
	ValueString   ValueKind = iota + 1 // a JSON string
	ValueBool                          // true or false
	ValueInt                           // a signed integer
	ValueUint                          // an unsigned integer (uint64 may exceed a signed long)
	ValueFloat                         // a number, or null for NaN and ±Inf
	ValueTime                          // an RFC 3339 string (UTC, at most 6 fraction digits where the encoder writes it)
	ValueDuration                      // an integer: nanoseconds
	ValueBytes                         // a base64 string ([]byte inside a value)
	ValueObject                        // an object of known keys: its members are entries of their own
	ValueMap                           // an object whose keys are known only at run time; entries below it end in "*"
	ValueAny                           // any JSON value, known only at run time (interfaces, MarshalJSON)
)

var valueKindNames = [...]string{
	ValueString: "string", ValueBool: "bool", ValueInt: "int", ValueUint: "uint", ValueFloat: "float",
	ValueTime: "time", ValueDuration: "duration", ValueBytes: "bytes", ValueObject: "object",
	ValueMap: "map", ValueAny: "any",
}

func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) && valueKindNames[k] != "" {
		return valueKindNames[k]
	}
	return "invalid"
}

// Written is one value the encoder may write on a line.
type Written struct {
	// Path holds the keys from the line's root to the value, as the encoder
	// writes them. A key may itself contain dots (Elasticsearch splits it);
	// "*" stands for the run-time keys of a ValueMap.
	Path []string
	// Value is what the value is; List, that it is a JSON array of those.
	Value ValueKind
	List  bool
	// GoName is the Go field path ("Req.Path"), Type the Go type of the
	// value (of an element, for a list). Both are empty for the library's
	// own fields.
	GoName string
	Type   reflect.Type
	// ECS is the ECS field a tagged field is written to, "" otherwise.
	ECS string
	// Tag is the struct field's tag, for options read by tools.
	Tag reflect.StructTag
	// Event is the event type's name; "" for the library's own fields.
	Event string
}

// Describe lists every value the encoder may write for the event type t (a
// struct embedding event.Base, or a pointer to one), in the order of its
// fields: first the ECS-tagged ones, then the custom ones under
// Pipelog.<root key>, each struct followed by its members. It does not list
// the library's own fields (LibraryFields). The error is what Check
// reports: the fields it names are left out, as Emit leaves them out.
func Describe(t reflect.Type) ([]Written, error) {
	ti := describe(t)
	if ti.elem != nil {
		ti = ti.elem
	}
	d := describer{event: ti.name, root: ti.typ}
	for i := range ti.ecs {
		f := &ti.ecs[i]
		d.field(strings.Split(f.ecsPath, "."), f, f.ecsPath, 0)
	}
	for i := range ti.custom {
		f := &ti.custom[i]
		d.field([]string{pipelogRoot, ti.rootKey, f.key}, f, "", 0)
	}
	return d.out, ti.err
}

// TypeOf is TypeFor for a type known only at run time (one made with
// reflect.StructOf, say): tools and tests that build event types use it.
func TypeOf(t reflect.Type) *Type { return typeOf(t) }

// LibraryFields lists the fields the library itself may write on a line of
// a typed event when every Config string is set: @timestamp, log.level,
// message, ecs.version, service.*, event.*, host.hostname, process.*,
// log.*, trace/span/transaction IDs, http.*, error.*, labels (a ValueMap),
// Pipelog.warning and Pipelog.encode_errors.
func LibraryFields() []Written {
	e := NewEncoder(Config{ServiceName: "s", ServiceVersion: "v", ServiceEnvironment: "e", ServiceNodeName: "n",
		Dataset: "d", Hostname: "h", PID: 1, LoggerName: "l"})
	out := []Written{
		{Path: []string{"@timestamp"}, Value: ValueTime},
		{Path: []string{"log.level"}, Value: ValueString},
		{Path: []string{"message"}, Value: ValueString},
		{Path: []string{"ecs.version"}, Value: ValueString},
	}
	var walk func(n *node, path []string)
	walk = func(n *node, path []string) {
		for _, k := range n.kids {
			p := append(append([]string(nil), path...), k.name)
			switch k.op {
			case opObject:
				walk(k, p)
				continue
			case opStatic:
				if k.static == nil && k.name != "action" {
					continue
				}
			}
			w := Written{Path: p, Value: ValueString}
			switch k.op {
			case opStatusCode, opThreadID, opLine:
				w.Value = ValueInt
			case opStatic:
				if len(k.static) > 0 && k.static[0] != '"' {
					w.Value = ValueInt // process.pid
				}
			case opLabels:
				w.Value = ValueMap
				out = append(out, w, Written{Path: append(p, "*"), Value: ValueString})
				continue
			}
			out = append(out, w)
		}
	}
	walk(e.root, nil)
	return append(out, Written{Path: []string{pipelogRoot, "encode_errors"}, Value: ValueString, List: true})
}

// describer collects the entries of one event type.
type describer struct {
	event string
	root  reflect.Type
	out   []Written
}

func (d *describer) add(path []string, f *field, ecsPath string, v ValueKind, list bool, t reflect.Type) {
	d.addNamed(path, f.goName, tagOf(d.root, f.goName), ecsPath, v, list, t)
}

func (d *describer) addNamed(path []string, goName string, tag reflect.StructTag, ecsPath string, v ValueKind, list bool, t reflect.Type) {
	d.out = append(d.out, Written{Path: path, Value: v, List: list, GoName: goName, Type: t,
		ECS: ecsPath, Tag: tag, Event: d.event})
}

// tagOf finds the tag of the field at the Go field path goName ("Req.Path",
// through pointers) below the struct type t.
func tagOf(t reflect.Type, goName string) reflect.StructTag {
	var tag reflect.StructTag
	for name := range strings.SplitSeq(goName, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return ""
		}
		sf, ok := t.FieldByName(name)
		if !ok {
			return ""
		}
		tag, t = sf.Tag, sf.Type
	}
	return tag
}

// field describes f, written at path, the way appendValue writes it.
func (d *describer) field(path []string, f *field, ecsPath string, depth int) {
	switch f.kind {
	case kString, kError, kStringer, kIP, kAddr:
		d.add(path, f, ecsPath, ValueString, false, f.typ)
	case kBool:
		d.add(path, f, ecsPath, ValueBool, false, f.typ)
	case kInt, kInt8, kInt16, kInt32, kInt64:
		d.add(path, f, ecsPath, ValueInt, false, f.typ)
	case kUint, kUint8, kUint16, kUint32, kUint64, kUintptr:
		d.add(path, f, ecsPath, ValueUint, false, f.typ)
	case kFloat32, kFloat64:
		d.add(path, f, ecsPath, ValueFloat, false, f.typ)
	case kTime:
		d.add(path, f, ecsPath, ValueTime, false, f.typ)
	case kDuration:
		d.add(path, f, ecsPath, ValueDuration, false, f.typ)
	case kStringSlice:
		d.add(path, f, ecsPath, ValueString, true, f.typ.Elem())
	case kMethod:
		if f.typ.Implements(jsonMarshaler) || reflect.PointerTo(f.typ).Implements(jsonMarshaler) {
			d.add(path, f, ecsPath, ValueAny, false, f.typ)
		} else {
			d.add(path, f, ecsPath, ValueString, false, f.typ)
		}
	case kPtr:
		e := *f.elem
		e.goName = f.goName
		d.field(path, &e, ecsPath, depth+1)
	case kStruct:
		d.add(path, f, ecsPath, ValueObject, false, f.typ)
		for i := range f.sub {
			s := &f.sub[i]
			d.field(appendPath(path, s.key), s, "", depth+1)
		}
	case kReflect, kAny:
		j := valueDescriber{d: d, ecsPath: ecsPath}
		j.value(path, f.goName, tagOf(d.root, f.goName), f.typ, false, depth)
	}
}

func appendPath(path []string, key string) []string {
	return append(append(make([]string, 0, len(path)+1), path...), key)
}

// valueDescriber describes a value written by the generic value encoder
// (value.go): pointers and interfaces followed; times, durations and
// addresses by type; a value with MarshalJSON as any JSON, with
// MarshalText, Error or String as a string; []byte in base64; structs by
// their json tags, embedded structs inlined; every key by the key rule.
type valueDescriber struct {
	d       *describer
	ecsPath string
	stack   []reflect.Type // structs being described, to stop at recursive types
}

// value describes a value of type t at path.
func (j *valueDescriber) value(path []string, goName string, tag reflect.StructTag, t reflect.Type, list bool, depth int) {
	add := func(v ValueKind) { j.d.addNamed(path, goName, tag, j.ecsPath, v, list, t) }
	if depth > MaxValueDepth {
		add(ValueAny) // left out by the encoder, noted
		return
	}
	for i := 0; ; i++ {
		switch t {
		case timeType:
			add(ValueTime)
			return
		case durationType:
			add(ValueDuration)
			return
		case ipType, addrType:
			add(ValueString)
			return
		}
		if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
			add(ValueAny)
			return
		}
		if hasMethod(t) || reflect.PointerTo(t).Implements(textMarshaler) || reflect.PointerTo(t).Implements(errorType) ||
			reflect.PointerTo(t).Implements(stringerType) {
			add(ValueString)
			return
		}
		if t.Kind() != reflect.Pointer || i == maxIndirections {
			break
		}
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		add(ValueString)
	case reflect.Bool:
		add(ValueBool)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		add(ValueInt)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		add(ValueUint)
	case reflect.Float32, reflect.Float64:
		add(ValueFloat)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			add(ValueBytes)
			return
		}
		j.value(path, goName, tag, t.Elem(), true, depth+1)
	case reflect.Array:
		j.value(path, goName, tag, t.Elem(), true, depth+1)
	case reflect.Map:
		add(ValueMap)
		j.value(appendPath(path, "*"), goName, tag, t.Elem(), false, depth+1)
	case reflect.Struct:
		for _, s := range j.stack {
			if s == t {
				add(ValueAny) // recursive: as deep as the value goes
				return
			}
		}
		add(ValueObject)
		j.stack = append(j.stack, t)
		for _, m := range structMembers(t) {
			j.value(appendPath(path, m.name), goName+"."+m.goName, m.tag, m.typ, list, depth+1)
		}
		j.stack = j.stack[:len(j.stack)-1]
	default: // interfaces: any JSON; channels and functions: null
		add(ValueAny)
	}
}

// structMember is one key the value encoder writes for a struct.
type structMember struct {
	name   string // the key, by the key rule
	goName string // the Go field's name
	tag    reflect.StructTag
	typ    reflect.Type
}

// structMembers lists the keys the value encoder writes for the struct
// type t, as the walker's structMembers reads them: exported fields by
// their json tag name or Go name, "-" left out, embedded structs without
// a name (and without methods) inlined; of two members with one key, the
// later is written.
func structMembers(t reflect.Type) []structMember {
	var all []structMember
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" && opts == "" {
				continue
			}
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && !hasMethod(ft) && depth < maxIndirections {
					walk(ft, depth+1)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			all = append(all, structMember{normKey(name), sf.Name, sf.Tag, sf.Type})
		}
	}
	walk(t, 0)
	out := all[:0]
	for i, m := range all {
		later := false
		for _, o := range all[i+1:] {
			later = later || o.name == m.name
		}
		if !later {
			out = append(out, m)
		}
	}
	return out
}
