package esmapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Mapping is one field's Elasticsearch mapping: {"type":"keyword",
// "ignore_above":1024}, say. It never holds "properties".
type Mapping map[string]any

// Type is the mapping's type; an object without one is "object".
func (m Mapping) Type() string {
	if t, ok := m["type"].(string); ok {
		return t
	}
	return "object"
}

func (m Mapping) equal(o Mapping) bool {
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// Field is one path of the generated mapping.
type Field struct {
	Path    string   // dotted, as Elasticsearch names it
	Mapping Mapping  // its mapping (objects: without their properties)
	Value   string   // what is written: string, bool, int, uint, float, time, duration, bytes, object, map, any
	List    bool     // written as a JSON array
	GoType  string   // the Go type; "" for the library's own fields
	GoName  string   // the Go field path of the first event type that writes it
	ECS     bool     // an ECS field: its mapping is ECS's
	Events  []string // event types that write it; empty: the library itself
	// Covers: the mapping takes every key below it (flattened, or not
	// indexed): nothing below it is mapped or counted.
	Covers bool
}

// Dynamic is one dynamic template of the generated mapping.
type Dynamic struct {
	Name      string
	PathMatch string
	// MatchMappingType is the JSON type Elasticsearch detects ("string",
	// "long", "double", "boolean", "object"); "" matches every type.
	MatchMappingType string
	Mapping          Mapping
}

// Mappings is what Build generates: explicit mappings for every path the
// encoder writes for the given types, and dynamic templates for the rest
// of Pipelog and labels. It is immutable.
type Mappings struct {
	Fields   []Field // sorted by Path
	Dynamic  []Dynamic
	Problems []Problem
	Types    []string // the event types mapped, by name

	byPath  map[string]int
	objects map[string]bool // objects implied by the paths of Fields
}

// Severity orders problems.
type Severity uint8

const (
	Info    Severity = iota + 1 // worth knowing
	Warning                     // likely wrong
	Error                       // setup refuses: Elasticsearch would reject the mapping or documents
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "?"
}

// Problem is one lint finding.
type Problem struct {
	Severity Severity
	Path     string // "" when it is about a type
	Event    string // the event type; "" for the library
	GoName   string
	Msg      string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Severity.String() + ":")
	if p.Event != "" {
		b.WriteString(" " + p.Event)
		if p.GoName != "" {
			b.WriteString("." + p.GoName)
		}
		b.WriteString(":")
	}
	if p.Path != "" {
		b.WriteString(" " + p.Path + ":")
	}
	return b.String() + " " + p.Msg
}

// Err joins the problems of Severity Error, or nil.
func (m *Mappings) Err() error {
	var errs []error
	for _, p := range m.Problems {
		if p.Severity == Error {
			errs = append(errs, errors.New(p.String()))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("esmapping: %w", errors.Join(errs...))
}

// Field returns the field at path, if the mapping has it.
func (m *Mappings) Field(path string) (Field, bool) {
	if m == nil {
		return Field{}, false
	}
	if i, ok := m.byPath[path]; ok {
		return m.Fields[i], true
	}
	return Field{}, false
}
