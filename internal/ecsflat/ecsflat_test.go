package ecsflat

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyYAML = `
'@timestamp':
  flat_name: '@timestamp'
  normalize: []
  type: date
host.ip:
  flat_name: host.ip
  normalize:
  - array
  type: ip
labels:
  flat_name: labels
  normalize: []
  object_type: keyword
  type: object
log.syslog:
  flat_name: log.syslog
  normalize: []
  type: object
log.syslog.priority:
  flat_name: log.syslog.priority
  normalize: []
  type: long
process.command_line:
  flat_name: process.command_line
  multi_fields:
  - flat_name: process.command_line.text
    name: text
    type: match_only_text
  normalize: []
  type: wildcard
`

func TestParse(t *testing.T) {
	s, err := Parse([]byte(tinyYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{Name: "@timestamp", Type: "date", Leaf: true},
		{Name: "host.ip", Type: "ip", Array: true, Leaf: true},
		{Name: "labels", Type: "object", ObjectType: "keyword", Leaf: true},
		{Name: "log.syslog", Type: "object"},
		{Name: "log.syslog.priority", Type: "long", Leaf: true},
		{Name: "process.command_line", Type: "wildcard", Leaf: true},
	}
	if len(s.Fields) != len(want) {
		t.Fatalf("got %d fields %+v, want %d", len(s.Fields), s.Fields, len(want))
	}
	for i := range want {
		if s.Fields[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, s.Fields[i], want[i])
		}
	}
	if got := strings.Join(s.Groups, ","); got != "host,log,process" {
		t.Errorf("groups = %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for name, yml := range map[string]string{
		"empty":         "",
		"flat_name":     "a.b:\n  flat_name: a.c\n  type: keyword\n",
		"no type":       "a:\n  flat_name: a\n",
		"bad name":      "a..b:\n  flat_name: a..b\n  type: keyword\n",
		"not a mapping": "- a\n",
	} {
		if _, err := Parse([]byte(yml)); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestReadVersion(t *testing.T) {
	v, err := ReadVersion([]byte(`{"_meta":{"ecs_version":"9.4.0"}}`))
	if err != nil || v != "9.4.0" {
		t.Errorf("ReadVersion = %q, %v", v, err)
	}
	if _, err := ReadVersion([]byte(`{"_meta":{}}`)); err == nil {
		t.Error("want error for missing version")
	}
}

func TestLoadAndRender(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "ecs_flat.yml")
	if err := os.WriteFile(yml, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(yml, ""); err == nil {
		t.Error("Load without composable/template.json: want error")
	}
	s, err := Load(yml, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	src, err := Render(s, "ecs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "fields_gen.go", src, 0); err != nil {
		t.Fatalf("generated source does not parse: %v", err)
	}
	for _, want := range []string{
		"// Code generated ",
		"DO NOT EDIT.",
		`const Version = "1.2.3"`,
		`"host.ip":`,
		`{"ip", "", true, true}`,
		`"log.syslog":`,
		`{"object", "", false, false}`,
		`"process": {}`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q", want)
		}
	}
	if strings.Contains(string(src), "process.command_line.text") {
		t.Error("multi-field leaked into the table")
	}
}
