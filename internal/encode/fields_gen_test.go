package encode

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/pipelog/pipelog/internal/ecsflat"
)

const testdataFlat = "../../ecs/testdata/ecs_flat.yml"

// loadTestdataSchema parses testdata/ecs_flat.yml once per test binary
// (1.2 MB of YAML: slow under -race).
var loadTestdataSchema = func() func(t *testing.T) *ecsflat.Schema {
	var (
		once sync.Once
		s    *ecsflat.Schema
		err  error
	)
	return func(t *testing.T) *ecsflat.Schema {
		t.Helper()
		once.Do(func() { s, err = ecsflat.Load(testdataFlat, "") })
		if err != nil {
			t.Fatalf("load %s: %v", testdataFlat, err)
		}
		return s
	}
}()

// TestFieldsTableMatchesYAML re-reads testdata/ecs_flat.yml and checks that
// the generated table holds exactly the same fields with the same
// attributes, so a stale fields_gen.go fails CI.
func TestFieldsTableMatchesYAML(t *testing.T) {
	s := loadTestdataSchema(t)

	if Version != s.Version {
		t.Errorf("Version = %q, testdata/composable/template.json says %q; run go generate", Version, s.Version)
	}
	if len(ecsFieldTable) != len(s.Fields) {
		t.Errorf("generated table has %d fields, ecs_flat.yml has %d; run go generate", len(ecsFieldTable), len(s.Fields))
	}
	for _, f := range s.Fields {
		got, ok := ecsFieldTable[f.Name]
		want := ecsFieldEntry{typ: f.Type, objectType: f.ObjectType, leaf: f.Leaf, array: f.Array}
		switch {
		case !ok:
			t.Errorf("field %q (type %s) missing from generated table", f.Name, f.Type)
		case got != want:
			t.Errorf("field %q: generated %+v, ecs_flat.yml says %+v", f.Name, got, want)
		}
	}
	if len(ecsGroupTable) != len(s.Groups) {
		t.Errorf("generated table has %d implicit groups, ecs_flat.yml implies %d", len(ecsGroupTable), len(s.Groups))
	}
	for _, g := range s.Groups {
		if _, ok := ecsGroupTable[g]; !ok {
			t.Errorf("implicit group %q missing from generated table", g)
		}
	}
}

// TestFieldsGenUpToDate regenerates fields_gen.go from testdata and compares
// it byte for byte with the checked-in file.
func TestFieldsGenUpToDate(t *testing.T) {
	s := loadTestdataSchema(t)
	want, err := ecsflat.Render(s, "encode")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("fields_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("fields_gen.go is stale relative to %s; run: go generate ./internal/encode", testdataFlat)
	}
}

func TestFieldsLookup(t *testing.T) {
	types := map[string]string{
		"@timestamp":                          "date",
		"log.level":                           "keyword",
		"message":                             "match_only_text",
		"ecs.version":                         "keyword",
		"labels":                              "object",
		"tags":                                "keyword",
		"event.duration":                      "long",
		"process.thread.id":                   "long",
		"process.thread.name":                 "keyword",
		"http.response.status_code":           "long",
		"log.origin.file.line":                "long",
		"error.stack_trace":                   "wildcard",
		"host.ip":                             "ip",
		"host.geo.location":                   "geo_point",
		"event.risk_score":                    "float",
		"log.syslog.structured_data":          "flattened",
		"email.attachments":                   "nested",
		"data_stream.type":                    "constant_keyword",
		"container.cpu.usage":                 "scaled_float",
		"threat.enrichments.matched.occurred": "date",
	}
	for name, want := range types {
		if got, ok := fieldType(name); !ok || got != want {
			t.Errorf("fieldType(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}

	// Multi-fields are mapping-only sub-fields, not JSON fields.
	for _, name := range []string{"process.command_line.text", "message.text", "host", "process.thread", "nope"} {
		if typ, ok := fieldType(name); ok {
			t.Errorf("fieldType(%q) = %q, true; want not found", name, typ)
		}
	}

	kinds := map[string]string{
		"host":              "group",
		"process.thread":    "group",
		"log":               "group",
		"log.syslog":        "object",
		"process.thread.id": "long",
	}
	for name, want := range kinds {
		if got, ok := fieldKind(name); !ok || got != want {
			t.Errorf("fieldKind(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if typ, ok := fieldKind("event.foo"); ok {
		t.Errorf("fieldKind(event.foo) = %q, true", typ)
	}

	for name, want := range map[string]bool{
		"message":           true,
		"host.hostname":     true,
		"labels":            true, // free-form object leaf
		"email.attachments": false,
		"log.syslog":        false,
		"host":              false,
		"nope":              false,
	} {
		if got := isLeaf(name); got != want {
			t.Errorf("isLeaf(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{
		"host":              true,
		"log":               true,
		"log.syslog":        true,
		"email.attachments": true,
		"message":           false,
		"labels":            false,
		"event.foo":         false,
	} {
		if got := isECSObjectPath(name); got != want {
			t.Errorf("isECSObjectPath(%q) = %v, want %v", name, got, want)
		}
	}
	if !isArrayField("host.ip") || isArrayField("host.name") {
		t.Error("isArrayField: host.ip must be an array field, host.name must not")
	}
	if fieldObjectType("labels") != "keyword" || fieldObjectType("message") != "" {
		t.Error(`fieldObjectType: want labels -> "keyword", message -> ""`)
	}
}
