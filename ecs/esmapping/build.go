package esmapping

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/pipelog/pipelog/internal/encode"
)

// Options says what Build maps.
type Options struct {
	// Types are the event types to map. Nil: the registered ones (Register)
	// and the library's own (LibraryEvents).
	Types []reflect.Type
	// Attrs is how Pipelog.Attrs, where the slog and zap adapters put
	// attributes that are not ECS fields, is mapped: "flattened" (the
	// default: one field whatever the keys, never a mapping conflict) or
	// "dynamic" (typed by Elasticsearch's dynamic mapping, below the keyword
	// rule for strings; every distinct key adds a field).
	Attrs string
}

// Attrs values.
const (
	AttrsFlattened = "flattened"
	AttrsDynamic   = "dynamic"
)

// The tag that chooses a custom field's mapping: mapping:"text".
const tagKey = "mapping"

var keywordMapping = Mapping{"type": "keyword", "ignore_above": 1024}

// Build maps every path the encoder writes for opts.Types (and the
// library's own fields). Problems of Severity Error (two types mapping one
// path differently, a type the encoder refuses) are in the result, and in
// Err.
func Build(opts Options) *Mappings {
	types := opts.Types
	if types == nil {
		types = append(Registered(), LibraryEvents()...)
	}
	b := &builder{m: &Mappings{byPath: map[string]int{}}, modes: map[string]string{}}
	for _, w := range encode.LibraryFields() {
		b.add(w)
	}
	attrs := opts.Attrs
	switch attrs {
	case "", AttrsFlattened:
		b.put(Field{Path: "Pipelog.Attrs", Mapping: Mapping{"type": "flattened"}, Value: "map", Covers: true})
	case AttrsDynamic:
	default:
		b.problem(Error, "Pipelog.Attrs", "", "", fmt.Sprintf("Options.Attrs %q: want %q or %q", attrs, AttrsFlattened, AttrsDynamic))
	}
	seen := map[reflect.Type]bool{}
	for _, t := range types {
		if t == nil || seen[t] {
			continue
		}
		seen[t] = true
		ws, err := encode.Describe(t)
		name := encode.TypeOf(t).Name()
		b.m.Types = append(b.m.Types, name)
		if err != nil {
			b.problem(Error, "", name, "", err.Error())
		}
		for _, w := range ws {
			b.add(w)
		}
	}
	b.dynamic()
	m := b.m
	slices.SortFunc(m.Fields, func(a, c Field) int { return strings.Compare(a.Path, c.Path) })
	clear(m.byPath)
	m.objects = map[string]bool{}
	for i, f := range m.Fields {
		m.byPath[f.Path] = i
		for p := f.Path; ; {
			j := strings.LastIndexByte(p, '.')
			if j < 0 {
				break
			}
			p = p[:j]
			m.objects[p] = true
		}
	}
	return m
}

type builder struct {
	m       *Mappings
	modes   map[string]string // path of a map or free-form value → how what is below it is mapped
	pending []pendingDynamic
}

func (b *builder) problem(s Severity, path, ev, goName, msg string) {
	b.m.Problems = append(b.m.Problems, Problem{Severity: s, Path: path, Event: ev, GoName: goName, Msg: msg})
}

// esPath joins the keys the way Elasticsearch reads them: every dot of a
// key is a level of objects.
func esPath(keys []string) (string, bool) {
	p := strings.Join(keys, ".")
	for part := range strings.SplitSeq(p, ".") {
		if strings.TrimSpace(part) == "" {
			return p, false
		}
	}
	return p, true
}

// Modes of what lies below a path.
const (
	modeCovered = "covered" // flattened or not indexed: nothing below is mapped
	modeDynamic = "dynamic" // a map opted into object: its values get dynamic templates
)

// below returns the mode of the closest covering ancestor of path and
// that ancestor, or "".
func (b *builder) below(path string) (string, string) {
	for p := path; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return "", ""
		}
		p = p[:i]
		if m, ok := b.modes[p]; ok {
			return m, p
		}
	}
}

// pending dynamic templates, by the map's path.
type pendingDynamic struct {
	path    string
	mapping Mapping
	value   string
}

func (b *builder) add(w encode.Written) {
	path, ok := esPath(w.Path)
	ev := w.Event
	if !ok {
		b.problem(Error, path, ev, w.GoName, "a key is empty or only blanks once split at its dots: Elasticsearch rejects such a field name")
		return
	}
	if path == "@timestamp" || strings.HasPrefix(path, "data_stream.") {
		return // logs@mappings maps them (date_nanos on recent releases; constant_keyword)
	}
	mode, at := b.below(path)
	switch mode {
	case modeCovered:
		return
	case modeDynamic:
		tag := w.Tag
		if i, ok := b.m.byPath[at]; ok && strings.HasPrefix(path, at+".*") && w.GoName == b.m.Fields[i].GoName {
			tag = "" // the map's own values: its tag is about the map
		}
		mp, covers, _ := customMapping(w, tag.Get(tagKey))
		if covers {
			b.modes[path] = modeCovered // an inner map (flattened) or a value not indexed
		}
		b.pending = append(b.pending, pendingDynamic{path: path, mapping: mp, value: w.Value.String()})
		return
	}
	f := Field{Path: path, Value: w.Value.String(), List: w.List, GoName: w.GoName}
	if w.Type != nil {
		f.GoType = w.Type.String()
	}
	if ev != "" {
		f.Events = []string{ev}
	}
	ecsPath := w.ECS
	if ev == "" && path != "Pipelog.warning" && path != "Pipelog.encode_errors" && !strings.HasPrefix(path, "labels.") {
		ecsPath = path // the library writes ECS fields only, but for these
	}
	if m, isECS := ecsMapping(path); isECS && (ecsPath != "" || !strings.HasPrefix(path, "Pipelog.")) {
		f.Mapping, f.ECS = m, true
		if t := m.Type(); t != "object" && t != "nested" {
			b.modes[path] = modeCovered // an ECS leaf: whatever the Go value, ECS decides
			f.Covers = w.Value == encode.ValueObject || w.Value == encode.ValueMap
		}
		b.checkECS(w, f, m)
		b.put(f)
		return
	}
	if ecsPath == "" && ev != "" && ecsContainer(path) && !strings.HasPrefix(path, "Pipelog.") {
		b.problem(Error, path, ev, w.GoName, "lies on an ECS field set: tag a leaf")
		return
	}
	switch path {
	case "Pipelog.warning", "Pipelog.encode_errors":
		f.Mapping = keywordMapping
		b.put(f)
		return
	}
	if strings.HasPrefix(path, "labels.") {
		return // the labels dynamic template
	}
	mp, covers, msg := customMapping(w, w.Tag.Get(tagKey))
	if msg != "" {
		b.problem(Warning, path, ev, w.GoName, msg)
	}
	f.Mapping, f.Covers = mp, covers
	switch {
	case covers:
		b.modes[path] = modeCovered
	case w.Value == encode.ValueMap:
		b.modes[path] = modeDynamic
		b.problem(Info, path, ev, w.GoName, "a map mapped as an object: every distinct key adds a field, and past index.mapping.total_fields.limit logs@settings drops new fields silently (ignore_dynamic_beyond_limit)")
	}
	if w.Value == encode.ValueAny || mp.Type() == "object" && mp["enabled"] == false {
		b.problem(Info, path, ev, w.GoName, "kept in _source but not indexed: its type is known only at run time (an interface, a MarshalJSON method) or it is tagged mapping:\"none\"")
	}
	b.put(f)
}

// put adds f, or merges it with the field already at its path.
func (b *builder) put(f Field) {
	if i, ok := b.m.byPath[f.Path]; ok {
		old := &b.m.Fields[i]
		if !old.Mapping.equal(f.Mapping) {
			b.problem(Error, f.Path, strings.Join(f.Events, ","), f.GoName,
				fmt.Sprintf("mapped as %s here and as %s by %s: one index cannot hold both", jsonOf(f.Mapping), jsonOf(old.Mapping), who(old)))
			return
		}
		for _, e := range f.Events {
			if !slices.Contains(old.Events, e) {
				old.Events = append(old.Events, e)
			}
		}
		return
	}
	// A value where an object is, or below a value: a mapping conflict.
	for p := f.Path; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
		if j, ok := b.m.byPath[p]; ok && !isObject(b.m.Fields[j].Mapping) {
			b.problem(Error, f.Path, strings.Join(f.Events, ","), f.GoName,
				fmt.Sprintf("lies below %s, which %s maps as %s", p, who(&b.m.Fields[j]), b.m.Fields[j].Mapping.Type()))
			return
		}
	}
	if !isObject(f.Mapping) {
		prefix := f.Path + "."
		for _, o := range b.m.Fields {
			if strings.HasPrefix(o.Path, prefix) {
				b.problem(Error, f.Path, strings.Join(f.Events, ","), f.GoName,
					fmt.Sprintf("mapped as %s, but %s writes %s below it", f.Mapping.Type(), who(&o), o.Path))
				return
			}
		}
	}
	b.m.byPath[f.Path] = len(b.m.Fields)
	b.m.Fields = append(b.m.Fields, f)
}

func isObject(m Mapping) bool {
	t := m.Type()
	return (t == "object" || t == "nested") && m["enabled"] != false
}

func who(f *Field) string {
	if len(f.Events) == 0 {
		return "pipelog"
	}
	return strings.Join(f.Events, ", ")
}

func jsonOf(m Mapping) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// customMapping is the mapping of a custom field from what the encoder
// writes and its mapping tag; covers: nothing below it is mapped. msg
// explains a tag that does not apply.
func customMapping(w encode.Written, tag string) (m Mapping, covers bool, msg string) {
	switch tag {
	case "none":
		return Mapping{"type": "object", "enabled": false}, true, ""
	case "":
	case "text", "match_only_text", "wildcard", "keyword":
		if w.Value == encode.ValueString {
			if tag == "keyword" {
				return keywordMapping, false, ""
			}
			return Mapping{"type": tag}, false, ""
		}
		msg = fmt.Sprintf("mapping:%q applies to strings, not to a %s value: ignored", tag, w.Value)
	case "object", "flattened":
		if w.Value == encode.ValueMap {
			if tag == "object" {
				return Mapping{"type": "object"}, false, ""
			}
			return Mapping{"type": "flattened"}, true, ""
		}
		msg = fmt.Sprintf("mapping:%q applies to maps, not to a %s value: ignored", tag, w.Value)
	default:
		msg = fmt.Sprintf("mapping:%q is not one of text, match_only_text, wildcard, keyword, object, flattened, none: ignored", tag)
	}
	switch w.Value {
	case encode.ValueString:
		m = keywordMapping
	case encode.ValueBool:
		m = Mapping{"type": "boolean"}
	case encode.ValueInt, encode.ValueDuration:
		m = Mapping{"type": "long"}
	case encode.ValueUint:
		m = Mapping{"type": "long"}
		if w.Type != nil && (w.Type.Size() == 8) {
			m = Mapping{"type": "unsigned_long"} // uint, uint64, uintptr: may exceed a signed long
		}
	case encode.ValueFloat:
		m = Mapping{"type": "double"}
	case encode.ValueTime:
		m = Mapping{"type": "date", "format": "strict_date_optional_time"}
	case encode.ValueBytes:
		m = Mapping{"type": "binary"}
	case encode.ValueObject:
		m = Mapping{"type": "object"}
	case encode.ValueMap:
		return Mapping{"type": "flattened"}, true, msg
	default: // ValueAny
		return Mapping{"type": "object", "enabled": false}, true, msg
	}
	return m, false, msg
}

// checkECS notes ECS-tagged values whose Go type does not fit ECS's type
// in ways the encoder cannot see.
func (b *builder) checkECS(w encode.Written, f Field, m Mapping) {
	if w.Event == "" || w.ECS == "" {
		return
	}
	switch t := m.Type(); {
	case t == "ip" && w.Value == encode.ValueString && w.Type != nil && w.Type.Kind() == reflect.String:
		b.problem(Info, f.Path, w.Event, w.GoName, fmt.Sprintf("ECS type ip: the encoder checks each string, and writes one that is no address to Pipelog.%s.%s instead (mapped too)", w.Event, w.GoName))
	case (t == "geo_point" || t == "version") && w.Value == encode.ValueString:
		b.problem(Info, f.Path, w.Event, w.GoName, fmt.Sprintf("ECS type %s: a string that is not one is rejected, or dropped from the index where index.mapping.ignore_malformed is set (logs@settings sets it on recent releases)", t))
	case w.Value == encode.ValueAny:
		b.problem(Warning, f.Path, w.Event, w.GoName, fmt.Sprintf("its JSON is known only at run time; ECS %s is %s", w.ECS, t))
	}
}

// dynamic adds the dynamic templates: one per value below a map opted into
// object, then the labels and Pipelog catch-alls. They come first in the
// composed template (before ecs@mappings'), so they decide before its
// suffix rules do.
func (b *builder) dynamic() {
	// The first template that matches decides, and '*' spans dots: the
	// deeper a pattern, the earlier it must come.
	slices.SortStableFunc(b.pending, func(x, y pendingDynamic) int {
		return strings.Count(y.path, ".") - strings.Count(x.path, ".")
	})
	for _, p := range b.pending {
		name := "pipelog_" + strings.NewReplacer(".", "_", "*", "any").Replace(p.path)
		for _, mt := range matchTypes(p.value) {
			n := name
			if mt != "" {
				n += "_" + mt
			}
			b.m.Dynamic = append(b.m.Dynamic, Dynamic{Name: n, PathMatch: p.path, MatchMappingType: mt, Mapping: p.mapping})
		}
	}
	b.m.Dynamic = append(b.m.Dynamic,
		Dynamic{Name: "pipelog_labels", PathMatch: "labels.*", MatchMappingType: "string", Mapping: keywordMapping},
		Dynamic{Name: "pipelog_strings", PathMatch: "Pipelog.*", MatchMappingType: "string", Mapping: keywordMapping},
		Dynamic{Name: "pipelog_longs", PathMatch: "Pipelog.*", MatchMappingType: "long", Mapping: Mapping{"type": "long"}},
		Dynamic{Name: "pipelog_doubles", PathMatch: "Pipelog.*", MatchMappingType: "double", Mapping: Mapping{"type": "double"}},
		Dynamic{Name: "pipelog_booleans", PathMatch: "Pipelog.*", MatchMappingType: "boolean", Mapping: Mapping{"type": "boolean"}},
		Dynamic{Name: "pipelog_objects", PathMatch: "Pipelog.*", MatchMappingType: "object", Mapping: Mapping{"type": "object"}},
	)
}

// matchTypes are the JSON types Elasticsearch detects for a written value.
func matchTypes(value string) []string {
	switch value {
	case "string", "time", "bytes":
		return []string{"string"}
	case "bool":
		return []string{"boolean"}
	case "int", "uint", "duration":
		return []string{"long"}
	case "float":
		return []string{"double", "long"} // 3.0 is written 3
	case "object", "map":
		return []string{"object"}
	}
	return []string{""} // any JSON: every type
}
