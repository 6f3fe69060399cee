package essetup_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog/sink/elasticsearch/essetup"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const day = 24 * time.Hour

// mappings is a small stand-in for esmapping's output: essetup takes the
// mappings as bytes and never looks inside beyond validity.
var mappings = json.RawMessage(`{"dynamic_templates":[{"pipelog_strings":{"mapping":{"ignore_above":1024,"type":"keyword"},"match_mapping_type":"string","path_match":"Pipelog.*"}}],"properties":{"Pipelog":{"properties":{"RowRejected":{"properties":{"line":{"type":"long"}}}}}}}`)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

func render(reqs []essetup.Request) []byte {
	var b bytes.Buffer
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s\n", r)
		if r.Body != nil {
			fmt.Fprintf(&b, "%s\n", r.Body)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

var cases = []struct {
	name    string
	cfg     essetup.Config
	version essetup.Version
	mode    essetup.Mode
}{
	{"dsl-9.1", essetup.Config{Dataset: "orders-etl", Mappings: mappings, Lifecycle: essetup.Lifecycle{Retention: 30 * day}},
		essetup.Version{Major: 9, Minor: 1}, essetup.ModeDSL},
	{"dsl-8.14-forever-limit", essetup.Config{Dataset: "orders_etl", Namespace: "prod", Mappings: mappings, Lifecycle: essetup.Lifecycle{},
		TotalFieldsLimit: 2000, Priority: 300}, essetup.Version{Major: 8, Minor: 14}, essetup.ModeBuiltIn},
	{"ilm-8.13-retention", essetup.Config{Dataset: "orders_etl", Mappings: mappings, Lifecycle: essetup.Lifecycle{Retention: 90 * day}},
		essetup.Version{Major: 8, Minor: 13}, essetup.ModeILM},
	{"ilm-9.1-tiers", essetup.Config{Dataset: "orders_etl", Mappings: mappings, Lifecycle: essetup.Lifecycle{Retention: 365 * day,
		WarmAfter: 7 * day, ColdAfter: 30 * day, RolloverMaxAge: day, RolloverMaxPrimaryShardSize: "10gb"}},
		essetup.Version{Major: 9, Minor: 1}, essetup.ModeILM},
	{"serverless", essetup.Config{Dataset: "orders_etl", Mappings: mappings, Lifecycle: essetup.Lifecycle{Retention: 7 * day}},
		essetup.Version{Major: 8, Minor: 11, Serverless: true}, essetup.ModeDSL},
}

func TestGoldenBodies(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reqs, err := essetup.Bodies(c.cfg, c.version)
			if err != nil {
				t.Fatal(err)
			}
			if mode, _ := essetup.ModeFor(c.cfg, c.version); mode != c.mode {
				t.Errorf("mode %s, want %s", mode, c.mode)
			}
			golden(t, c.name+".golden", render(reqs))
			for _, r := range reqs {
				checkShape(t, r)
			}
		})
	}
}

// The documented request bodies of the APIs (Elasticsearch reference:
// create or update a component template / an index template, create a
// lifecycle policy, update data stream lifecycle): only their fields, with
// the right shapes.
var documented = map[string][]string{
	"_component_template": {"template", "version", "_meta", "deprecated"},
	"_index_template": {"index_patterns", "composed_of", "template", "data_stream", "priority", "version", "_meta",
		"allow_auto_create", "ignore_missing_component_templates", "deprecated"},
	"template":  {"mappings", "settings", "aliases", "lifecycle", "data_stream_options"},
	"_ilm":      {"policy"},
	"policy":    {"phases", "_meta"},
	"phase":     {"min_age", "actions"},
	"lifecycle": {"data_retention", "enabled", "downsampling"},
}

var phaseActions = map[string][]string{
	"hot":    {"rollover", "set_priority", "forcemerge", "shrink", "readonly", "downsample", "searchable_snapshot", "unfollow"},
	"warm":   {"set_priority", "allocate", "migrate", "forcemerge", "shrink", "readonly", "downsample", "unfollow"},
	"cold":   {"set_priority", "allocate", "migrate", "readonly", "downsample", "searchable_snapshot", "unfollow"},
	"delete": {"wait_for_snapshot", "delete"},
}

func only(t *testing.T, what string, obj map[string]any) {
	t.Helper()
	for k := range obj {
		if !slices.Contains(documented[what], k) {
			t.Errorf("%s: %q is not a documented field", what, k)
		}
	}
}

func checkShape(t *testing.T, r essetup.Request) {
	t.Helper()
	var obj map[string]any
	if r.Body != nil {
		if err := json.Unmarshal(r.Body, &obj); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if meta, ok := obj["_meta"].(map[string]any); ok && meta["managed_by"] != "pipelog" {
			t.Errorf("%s: _meta.managed_by %v", r, meta["managed_by"])
		}
	}
	api := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")[0]
	switch api {
	case "_component_template":
		only(t, api, obj)
		tmpl := obj["template"].(map[string]any)
		only(t, "template", tmpl)
		if _, ok := tmpl["mappings"].(map[string]any); !ok {
			t.Errorf("%s: no template.mappings", r)
		}
	case "_index_template":
		only(t, api, obj)
		if p, _ := obj["index_patterns"].([]any); len(p) != 1 || !strings.HasSuffix(p[0].(string), "-*") {
			t.Errorf("index_patterns %v", obj["index_patterns"])
		}
		if _, ok := obj["data_stream"].(map[string]any); !ok {
			t.Error("data_stream must be an object for a data stream template")
		}
		composed := fmt.Sprint(obj["composed_of"])
		for _, ct := range []string{"logs@mappings", "logs@settings", "ecs@mappings"} {
			if !strings.Contains(composed, ct) {
				t.Errorf("composed_of %s lacks %s", composed, ct)
			}
		}
		if strings.Index(composed, "-mappings") > strings.Index(composed, "ecs@mappings") {
			t.Errorf("our mappings must come before ecs@mappings: %s", composed)
		}
		if tmpl, ok := obj["template"].(map[string]any); ok {
			only(t, "template", tmpl)
			if l, ok := tmpl["lifecycle"].(map[string]any); ok {
				only(t, "lifecycle", l)
			}
			if s, ok := tmpl["settings"].(map[string]any); ok {
				for k := range s {
					if !strings.HasPrefix(k, "index.") {
						t.Errorf("setting %q", k)
					}
				}
			}
		}
	case "_ilm":
		only(t, api, obj)
		pol := obj["policy"].(map[string]any)
		only(t, "policy", pol)
		for name, ph := range pol["phases"].(map[string]any) {
			p := ph.(map[string]any)
			only(t, "phase", p)
			for a := range p["actions"].(map[string]any) {
				if !slices.Contains(phaseActions[name], a) {
					t.Errorf("phase %s: action %s", name, a)
				}
			}
			if age, ok := p["min_age"].(string); ok {
				if _, err := essetup.ParseDuration(age); err != nil {
					t.Errorf("phase %s: min_age %q", name, age)
				}
			}
		}
	case "_data_stream":
		if strings.HasSuffix(r.Path, "/_lifecycle") {
			only(t, "lifecycle", obj)
		} else if r.Body != nil {
			t.Errorf("%s has a body", r)
		}
	}
}

func TestBodiesRefuse(t *testing.T) {
	for _, c := range []struct {
		cfg  essetup.Config
		v    essetup.Version
		want string
	}{
		{essetup.Config{Type: "metrics", Mappings: mappings}, essetup.Latest, "only logs"},
		{essetup.Config{Mappings: json.RawMessage(`[1]`)}, essetup.Latest, "JSON object"},
		{essetup.Config{Mappings: mappings}, essetup.Version{Major: 8, Minor: 11}, "older than 8.12"},
		{essetup.Config{Mappings: mappings, Lifecycle: essetup.Lifecycle{WarmAfter: day}}, essetup.Version{Major: 8, Minor: 11, Serverless: true}, "serverless"},
		{essetup.Config{Mappings: mappings, Lifecycle: essetup.Lifecycle{WarmAfter: 10 * day, ColdAfter: 5 * day}}, essetup.Latest, "later than warm"},
		{essetup.Config{Mappings: mappings, Lifecycle: essetup.Lifecycle{Retention: 5 * day, ColdAfter: 10 * day}}, essetup.Latest, "deleted after 5d"},
	} {
		if _, err := essetup.Bodies(c.cfg, c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v on %s: %v, want %q", c.cfg.Lifecycle, c.v, err, c.want)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * day, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := essetup.ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"d", "1.5d", "-3d", "soon"} {
		if _, err := essetup.ParseDuration(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if v, err := essetup.ParseVersion("9.1.3-SNAPSHOT"); err != nil || v != (essetup.Version{Major: 9, Minor: 1, Patch: 3}) {
		t.Errorf("%v %v", v, err)
	}
}
