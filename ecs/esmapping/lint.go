package esmapping

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultTotalFieldsLimit is Elasticsearch's default
// index.mapping.total_fields.limit, which logs@settings keeps.
const DefaultTotalFieldsLimit = 1000

// logsMappingsFields is what the built-in logs@mappings maps explicitly
// (@timestamp, data_stream and its three constant_keyword fields).
var logsMappingsFields = map[string]string{
	"@timestamp": "date", "data_stream": "object", "data_stream.type": "constant_keyword",
	"data_stream.dataset": "constant_keyword", "data_stream.namespace": "constant_keyword",
}

// Decision is how Elasticsearch maps a field that a document brings.
type Decision struct {
	// By is what decided: "explicit" (our mapping), "covered" (a flattened
	// or unindexed ancestor takes it), "logs@mappings", "dynamic" (one of
	// our dynamic templates), "ecs@mappings" (one of its rules), "default"
	// (Elasticsearch's own dynamic mapping).
	By   string
	Type string
	// Name is the dynamic template's or the covering ancestor's.
	Name string
	// Mapping is the mapping that decided, when it is one of ours.
	Mapping Mapping
}

// Decide emulates how an index composed of logs@mappings, ours (m; nil: not
// installed) and ecs@mappings maps a field at the dotted path whose value
// Elasticsearch detects as jsonType ("string", "long", "double",
// "boolean", "object"). legacy applies ecs@mappings rules of older releases.
func (m *Mappings) Decide(path, jsonType string, legacy bool) Decision {
	if t, ok := logsMappingsFields[path]; ok {
		return Decision{By: "logs@mappings", Type: t}
	}
	if m != nil {
		if f, ok := m.Field(path); ok {
			return Decision{By: "explicit", Type: f.Mapping.Type(), Mapping: f.Mapping}
		}
		if m.objects[path] {
			return Decision{By: "explicit", Type: "object"}
		}
		for p := path; ; {
			i := strings.LastIndexByte(p, '.')
			if i < 0 {
				break
			}
			p = p[:i]
			if f, ok := m.Field(p); ok && (f.Covers || !isObject(f.Mapping)) {
				return Decision{By: "covered", Type: f.Mapping.Type(), Name: p, Mapping: f.Mapping}
			}
		}
		for _, d := range m.Dynamic {
			if (d.MatchMappingType == "" || d.MatchMappingType == jsonType) && simpleMatch(d.PathMatch, path) {
				return Decision{By: "dynamic", Type: d.Mapping.Type(), Name: d.Name, Mapping: d.Mapping}
			}
		}
	}
	if r := ECSRuleFor(path, jsonType, legacy); r != nil {
		return Decision{By: "ecs@mappings", Type: r.Type, Name: r.Name}
	}
	switch jsonType {
	case "string":
		return Decision{By: "default", Type: "text"}
	case "double":
		return Decision{By: "default", Type: "float"}
	}
	return Decision{By: "default", Type: jsonType}
}

// JSONType is the type Elasticsearch detects for a value a Field describes.
func JSONType(value string) string {
	switch value {
	case "string", "time", "bytes":
		return "string"
	case "bool":
		return "boolean"
	case "int", "uint", "duration":
		return "long"
	case "float":
		return "double"
	case "object", "map":
		return "object"
	}
	return ""
}

// Trap is a custom field that, without our template, an ecs@mappings rule
// other than its keyword catch-all would map: the suffix rules the README
// warns of.
type Trap struct {
	Field Field
	Rule  string
	Type  string
}

// Traps lists, for the fields m maps, those ecs@mappings would map by a
// suffix rule were our template not installed (legacy: with the rules of
// older releases too). ECS fields are left out: mapping them is what those
// rules are for.
func (m *Mappings) Traps(legacy bool) []Trap {
	var out []Trap
	for _, f := range m.Fields {
		jt := JSONType(f.Value)
		if f.ECS || jt == "" || strings.HasPrefix(f.Path, "labels.") {
			continue
		}
		if isObject(f.Mapping) && f.Value == "object" {
			continue
		}
		d := (*Mappings)(nil).Decide(f.Path, jt, legacy)
		if d.By == "ecs@mappings" && d.Name != "all_strings_to_keywords" {
			out = append(out, Trap{Field: f, Rule: d.Name, Type: d.Type})
		}
	}
	return out
}

// Lint returns every problem of the mapping: Build's, the ecs@mappings
// traps our template defuses (Info), any field our template would leave to
// ecs@mappings (Error), and the field count against limit (0:
// DefaultTotalFieldsLimit).
func (m *Mappings) Lint(limit int) []Problem {
	if limit <= 0 {
		limit = DefaultTotalFieldsLimit
	}
	out := slices.Clone(m.Problems)
	for _, t := range m.Traps(true) {
		ev := strings.Join(t.Field.Events, ",")
		fit := ""
		switch t.Type {
		case "ip", "date", "geo_point", "float", "scaled_float", "integer", "double":
			fit = fmt.Sprintf("; a %s value that is not one is rejected (or silently not indexed under ignore_malformed)", t.Type)
		}
		out = append(out, Problem{Severity: Info, Path: t.Field.Path, Event: ev, GoName: t.Field.GoName,
			Msg: fmt.Sprintf("without pipelog's template, ecs@mappings' %s rule would map it as %s%s; the template maps it as %s", t.Rule, t.Type, fit, t.Field.Mapping.Type())})
	}
	for _, f := range m.Fields {
		jt := JSONType(f.Value)
		if jt == "" {
			continue
		}
		d := m.Decide(f.Path, jt, true)
		if d.By == "ecs@mappings" {
			out = append(out, Problem{Severity: Error, Path: f.Path, Msg: "left to ecs@mappings' " + d.Name + " rule"})
		}
	}
	n := m.FieldCount() + len(logsMappingsFields)
	switch {
	case n > limit:
		out = append(out, Problem{Severity: Error, Msg: fmt.Sprintf("%d fields mapped, more than index.mapping.total_fields.limit %d: raise the limit (setup --total-fields-limit)", n, limit)})
	case n > limit*8/10:
		out = append(out, Problem{Severity: Warning, Msg: fmt.Sprintf("%d fields mapped, close to index.mapping.total_fields.limit %d; past it, logs@settings drops new dynamic fields without an error (ignore_dynamic_beyond_limit)", n, limit)})
	default:
		out = append(out, Problem{Severity: Info, Msg: fmt.Sprintf("%d fields mapped of index.mapping.total_fields.limit %d", n, limit)})
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return int(b.Severity) - int(a.Severity) })
	return out
}
