package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// The checker deliberately parses ecs_flat.yml itself instead of using the
// generated table of package ecs, so that it is an independent oracle for
// the encoder.

const modulePath = "github.com/pipelog/pipelog"

// ecsField is one field of ecs_flat.yml (multi_fields excluded: they are
// mapping-only sub-fields, not JSON fields).
type ecsField struct {
	typ        string
	objectType string // labels, container.labels: "keyword"
	array      bool   // normalize: [array]
	leaf       bool   // no ECS field below it
}

// specField is one entry of ecs-logging-spec.json.
type specField struct {
	Type         string `json:"type"`
	Required     bool   `json:"required"`
	Index        *int   `json:"index"`
	TopLevel     bool   `json:"top_level_field"`
	Sanitization *struct {
		Key struct {
			Replacements []string `json:"replacements"`
			Substitute   string   `json:"substitute"`
		} `json:"key"`
	} `json:"sanitization"`
}

type schema struct {
	version  string              // ECS version (composable/template.json _meta.ecs_version)
	fields   map[string]ecsField // ECS fields by flat name
	groups   map[string]bool     // implicit object paths: proper prefixes of field names that are not fields
	spec     map[string]specField
	order    []string            // leading top-level key order
	required []string            // required fields, in order
	topLevel map[string]bool     // fields that must be dotted top-level keys
	sanitize map[string][]string // field -> substrings forbidden in its object's keys
}

var (
	loadOnce   sync.Once
	loadedSch  *schema
	loadErr    error
	testdataFS string // resolved directory, for error messages and tests
)

func getSchema() (*schema, error) {
	loadOnce.Do(func() {
		testdataFS, loadErr = findTestdata()
		if loadErr == nil {
			loadedSch, loadErr = loadSchema(testdataFS)
		}
		if loadErr != nil {
			loadErr = fmt.Errorf("conformance: loading spec files: %w", loadErr)
		}
	})
	return loadedSch, loadErr
}

// findTestdata locates <module root>/ecs/testdata: first next to this source
// file (runtime.Caller), then by walking up from the working directory to the
// go.mod of the module.
func findTestdata() (string, error) {
	const rel = "ecs/testdata"
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(rel))
		if fileExists(filepath.Join(dir, "ecs_flat.yml")) {
			return dir, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isOurModule(mod) {
			td := filepath.Join(dir, filepath.FromSlash(rel))
			if !fileExists(filepath.Join(td, "ecs_flat.yml")) {
				return "", fmt.Errorf("%s has no ecs_flat.yml", td)
			}
			return td, nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return "", fmt.Errorf("module %s not found above %s", modulePath, wd)
		}
	}
}

func isOurModule(gomod []byte) bool {
	for line := range bytes.Lines(gomod) {
		f := strings.Fields(string(line))
		if len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == modulePath {
			return true
		}
	}
	return false
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func loadSchema(dir string) (*schema, error) {
	yml, err := os.ReadFile(filepath.Join(dir, "ecs_flat.yml"))
	if err != nil {
		return nil, err
	}
	fields, groups, err := parseFlat(yml)
	if err != nil {
		return nil, err
	}
	specJSON, err := os.ReadFile(filepath.Join(dir, "ecs-logging-spec.json"))
	if err != nil {
		return nil, err
	}
	tmpl, err := os.ReadFile(filepath.Join(dir, "composable", "template.json"))
	if err != nil {
		return nil, err
	}
	var meta struct {
		Meta struct {
			ECSVersion string `json:"ecs_version"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(tmpl, &meta); err != nil {
		return nil, fmt.Errorf("composable/template.json: %w", err)
	}
	if meta.Meta.ECSVersion == "" {
		return nil, errors.New("composable/template.json: no _meta.ecs_version")
	}
	s := &schema{
		version:  meta.Meta.ECSVersion,
		fields:   fields,
		groups:   groups,
		topLevel: make(map[string]bool),
		sanitize: make(map[string][]string),
	}
	if err := s.loadSpec(specJSON); err != nil {
		return nil, fmt.Errorf("ecs-logging-spec.json: %w", err)
	}
	return s, nil
}

func parseFlat(yml []byte) (map[string]ecsField, map[string]bool, error) {
	var raw map[string]struct {
		FlatName   string   `yaml:"flat_name"`
		Type       string   `yaml:"type"`
		ObjectType string   `yaml:"object_type"`
		Normalize  []string `yaml:"normalize"`
	}
	if err := yaml.Unmarshal(yml, &raw); err != nil {
		return nil, nil, fmt.Errorf("ecs_flat.yml: %w", err)
	}
	if len(raw) == 0 {
		return nil, nil, errors.New("ecs_flat.yml: no fields")
	}
	fields := make(map[string]ecsField, len(raw))
	hasChildren := make(map[string]bool)
	groups := make(map[string]bool)
	for name, f := range raw {
		if f.FlatName != name || f.Type == "" {
			return nil, nil, fmt.Errorf("ecs_flat.yml: malformed entry %q (flat_name %q, type %q)", name, f.FlatName, f.Type)
		}
		for i := range len(name) {
			if name[i] == '.' {
				hasChildren[name[:i]] = true
				if _, ok := raw[name[:i]]; !ok {
					groups[name[:i]] = true
				}
			}
		}
	}
	for name, f := range raw {
		fields[name] = ecsField{
			typ:        f.Type,
			objectType: f.ObjectType,
			array:      slices.Contains(f.Normalize, "array"),
			leaf:       !hasChildren[name],
		}
	}
	return fields, groups, nil
}

func (s *schema) loadSpec(specJSON []byte) error {
	var spec struct {
		Fields map[string]specField `json:"fields"`
	}
	if err := json.Unmarshal(specJSON, &spec); err != nil {
		return err
	}
	if len(spec.Fields) == 0 {
		return errors.New("no fields")
	}
	s.spec = spec.Fields

	// Leading order: fields with an "index", by index; then top-level
	// fields without one (ecs.version), by name. The spec gives no index to
	// ecs.version; ecs-logging libraries (and our encoder) write it right
	// after message.
	var indexed, rest []string
	for name, f := range spec.Fields {
		switch {
		case f.Index != nil:
			indexed = append(indexed, name)
		case f.TopLevel:
			rest = append(rest, name)
		}
		if f.TopLevel {
			s.topLevel[name] = true
		}
		if f.Sanitization != nil {
			s.sanitize[name] = f.Sanitization.Key.Replacements
		}
	}
	slices.SortFunc(indexed, func(a, b string) int { return *spec.Fields[a].Index - *spec.Fields[b].Index })
	for i := 1; i < len(indexed); i++ {
		if *spec.Fields[indexed[i]].Index == *spec.Fields[indexed[i-1]].Index {
			return fmt.Errorf("fields %s and %s share index %d", indexed[i-1], indexed[i], *spec.Fields[indexed[i]].Index)
		}
	}
	slices.Sort(rest)
	s.order = append(indexed, rest...)

	for _, name := range s.order {
		if spec.Fields[name].Required {
			s.required = append(s.required, name)
		}
	}
	var extra []string
	for name, f := range spec.Fields {
		if f.Required && !slices.Contains(s.required, name) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	s.required = append(s.required, extra...)
	return nil
}
