package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const head = `{"@timestamp":"2024-05-01T12:34:56.123456Z","log.level":"info","message":"hello","ecs.version":"9.4.0"`

// ok builds a line with the standard leading fields followed by extra
// members (a JSON fragment without the leading comma).
func ok(extra string) string {
	if extra == "" {
		return head + "}\n"
	}
	return head + "," + extra + "}\n"
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string // "" = conformant; else a substring of the error
	}{
		// framing
		{"minimal", ok(""), ""},
		{"no trailing newline", strings.TrimSuffix(ok(""), "\n"), "not terminated"},
		{"two newlines", ok("") + "\n", "raw newline"},
		{"raw newline inside", head + ",\n\"Foo\":1}\n", "raw newline"},
		{"escaped newline in string ok", ok(`"error":{"stack_trace":"a\nb"}`), ""},
		{"CRLF", strings.TrimSuffix(ok(""), "\n") + "\r\n", "carriage return"},
		{"empty", "", "empty line"},
		{"invalid UTF-8", head + `,"Foo":"` + "\xff" + `"}` + "\n", "invalid UTF-8"},
		{"valid UTF-8", ok(`"Foo":"héllo ✓"`), ""},
		{"not JSON", "{\"@timestamp\":}\n", "not a single valid JSON value"},
		{"two objects", ok("")[:len(ok(""))-1] + "{}\n", "not a single valid JSON value"},
		{"array", "[1]\n", "must be a JSON object"},
		{"unpaired surrogate", ok(`"Foo":"\ud800x"`), "unpaired high surrogate"},
		{"paired surrogate", ok(`"Foo":"\ud83d\ude00"`), ""},

		// key order
		{"order without message", `{"@timestamp":"2024-05-01T12:34:56.1Z","log.level":"info","ecs.version":"9.4.0","Foo":1}` + "\n", ""},
		{"level before timestamp", `{"log.level":"info","@timestamp":"2024-05-01T12:34:56.123Z","message":"m","ecs.version":"9.4.0"}` + "\n", `expected "@timestamp" as top-level key #1`},
		{"ecs.version before message", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":"info","ecs.version":"9.4.0","message":"m"}` + "\n", `expected "message" as top-level key #3`},
		{"other field before ecs.version", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":"info","message":"m","Foo":1,"ecs.version":"9.4.0"}` + "\n", `expected "ecs.version" as top-level key #4`},

		// required fields
		{"missing ecs.version", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":"info","message":"m"}` + "\n", "ecs.version: required field missing"},
		{"missing timestamp", `{"log.level":"info","message":"m","ecs.version":"9.4.0"}` + "\n", "@timestamp: required field missing"},
		{"null log.level", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":null,"message":"m","ecs.version":"9.4.0"}` + "\n", "log.level: required field is null"},
		{"empty log.level", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":"","message":"m","ecs.version":"9.4.0"}` + "\n", "log.level: must not be empty"},
		{"wrong ecs.version", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":"info","message":"m","ecs.version":"1.6.0"}` + "\n", `ecs.version: is "1.6.0"`},

		// dotted top-level fields / no other dots
		{"nested log.level", `{"@timestamp":"2024-05-01T12:34:56.123Z","log":{"level":"info"},"message":"m","ecs.version":"9.4.0"}` + "\n", `log.level: must be the dotted top-level key "log.level", not nested`},
		{"nested ecs.version", head[:strings.Index(head, `,"ecs.version"`)] + `,"ecs":{"version":"9.4.0"}}` + "\n", `ecs.version: must be the dotted top-level key`},
		{"log object beside log.level", ok(`"log":{"logger":"main","origin":{"file":{"line":42,"name":"main.go"},"function":"main.run"}}`), ""},
		{"dotted service.name", ok(`"service.name":"api"`), "service.name: key contains a dot"},
		{"nested service.name", ok(`"service":{"name":"api"}`), ""},
		{"dot inside custom", ok(`"Foo":{"a.b":1}`), `Foo.a.b: key "a.b" contains a dot`},
		{"dot inside ECS object", ok(`"host":{"os.name":"linux"}`), `host.os.name: key "os.name" contains a dot`},
		{"empty key", ok(`"Foo":{"":1}`), "empty key"},

		// duplicate keys
		{"duplicate top-level", ok(`"message":"again"`), `message: duplicate key "message"`},
		{"duplicate nested", ok(`"service":{"name":"a","name":"b"}`), `service.name: duplicate key "name"`},
		{"duplicate via escape", ok(`"Foo":{"a":1,"\u0061":2}`), `Foo.a: duplicate key "a"`},
		{"same key different objects", ok(`"service":{"name":"a"},"host":{"name":"b"}`), ""},
		{"duplicate in array element", ok(`"email":{"attachments":[{"file":{"name":"a","name":"b"}}]}`), "duplicate key"},

		// JSON types by ECS type
		{"keyword string", ok(`"event":{"dataset":"app.log"}`), ""},
		{"keyword number", ok(`"event":{"dataset":1}`), "event.dataset: ECS type keyword needs a JSON string, got number"},
		{"keyword array of strings", ok(`"tags":["a","b"]`), ""},
		{"keyword array with number", ok(`"tags":["a",1]`), "tags[1]: ECS type keyword needs a JSON string, got number"},
		{"nested array", ok(`"tags":[["a"]]`), "tags[0]: nested arrays"},
		{"match_only_text", ok(`"error":{"message":"boom"}`), ""},
		{"wildcard bool", ok(`"error":{"stack_trace":true}`), "error.stack_trace: ECS type wildcard needs a JSON string, got boolean"},
		{"long", ok(`"event":{"duration":1500000}`), ""},
		{"long negative", ok(`"event":{"duration":-1}`), ""},
		{"long fraction", ok(`"event":{"duration":1.5}`), "event.duration: ECS long field needs an integer literal"},
		{"long exponent", ok(`"event":{"duration":1e3}`), "needs an integer literal"},
		{"long string", ok(`"event":{"duration":"15"}`), "event.duration: ECS type long needs a JSON number, got string"},
		{"long overflow", ok(`"event":{"duration":9223372036854775808}`), "out of range for ECS type long"},
		{"long array not allowed", ok(`"event":{"duration":[1,2]}`), "event.duration: ECS long field is not an array field"},
		{"thread id and status", ok(`"process":{"thread":{"id":7,"name":"main"}},"http":{"response":{"status_code":200}}`), ""},
		{"status float", ok(`"http":{"response":{"status_code":200.0}}`), "http.response.status_code: ECS long field needs an integer literal"},
		{"float with fraction", ok(`"event":{"risk_score":0.5}`), ""},
		{"float exponent", ok(`"event":{"risk_score":1e-7}`), ""},
		{"float integer literal", ok(`"event":{"risk_score":3}`), ""},
		{"float string", ok(`"event":{"risk_score":"0.5"}`), "event.risk_score: ECS type float needs a JSON number"},
		{"null numeric (NaN)", ok(`"event":{"risk_score":null}`), ""},
		{"boolean", ok(`"url":{"domain":"x"},"error":{"message":"m"},"tls":{"established":true}`), ""},
		{"boolean string", ok(`"tls":{"established":"true"}`), "tls.established: ECS type boolean needs a JSON boolean, got string"},
		{"ip v4 and v6", ok(`"client":{"ip":"10.0.0.1"},"server":{"ip":"::1"}`), ""},
		{"ip invalid", ok(`"client":{"ip":"10.0.0.256"}`), "client.ip: ECS ip field"},
		{"ip array field", ok(`"host":{"ip":["10.0.0.1","fe80::1"]}`), ""},
		{"ip array bad element", ok(`"host":{"ip":["10.0.0.1","nope"]}`), "host.ip[1]: ECS ip field"},
		{"date RFC 3339 offset", ok(`"event":{"created":"2024-05-01T14:34:56+02:00"}`), ""},
		{"date nanos", ok(`"event":{"created":"2024-05-01T12:34:56.123456789Z"}`), ""},
		{"date invalid", ok(`"event":{"created":"2024-05-01 12:34:56"}`), "event.created: \"2024-05-01 12:34:56\" is not an RFC 3339"},
		{"date epoch millis", ok(`"event":{"created":1714566896000}`), "event.created: ECS type date needs a JSON string"},
		{"timestamp 1 digit", `{"@timestamp":"2024-05-01T12:34:56.1Z","log.level":"info","ecs.version":"9.4.0"}` + "\n", ""},
		{"timestamp no fraction", `{"@timestamp":"2024-05-01T12:34:56Z","log.level":"info","ecs.version":"9.4.0"}` + "\n", "@timestamp: \"2024-05-01T12:34:56Z\" is not in the ecs-logging format"},
		{"timestamp nanos", `{"@timestamp":"2024-05-01T12:34:56.123456789Z","log.level":"info","ecs.version":"9.4.0"}` + "\n", "is not in the ecs-logging format"},
		{"timestamp offset", `{"@timestamp":"2024-05-01T12:34:56.123+02:00","log.level":"info","ecs.version":"9.4.0"}` + "\n", "is not in the ecs-logging format"},
		{"timestamp month 13", `{"@timestamp":"2024-13-01T12:34:56.123Z","log.level":"info","ecs.version":"9.4.0"}` + "\n", "is not an RFC 3339 date-time"},
		{"geo_point object", ok(`"client":{"geo":{"location":{"lat":45.5,"lon":-73.6}}}`), ""},
		{"geo_point string", ok(`"client":{"geo":{"location":"45.5,-73.6"}}`), ""},
		{"geo_point bad lat", ok(`"client":{"geo":{"location":{"lat":95,"lon":0}}}`), "client.geo.location.lat: geo_point coordinate 95 out of range"},
		{"geo_point missing lon", ok(`"client":{"geo":{"location":{"lat":1}}}`), `needs both "lat" and "lon"`},
		{"geo_point number", ok(`"client":{"geo":{"location":1}}`), "ECS geo_point needs"},
		{"flattened object", ok(`"log":{"syslog":{"structured_data":{"a":{"b":1}}}}`), ""},
		{"flattened string", ok(`"log":{"syslog":{"structured_data":"x"}}`), "log.syslog.structured_data: ECS type flattened needs a JSON object, got string"},
		{"object with ECS children", ok(`"log":{"syslog":{"priority":13,"facility":{"name":"user"}}}`), ""},
		{"object with ECS children unknown", ok(`"log":{"syslog":{"foo":1}}`), "log.syslog.foo: is not an ECS field"},
		{"nested array of objects", ok(`"email":{"attachments":[{"file":{"name":"a.txt","size":12}},{"file":{"name":"b"}}]}`), ""},
		{"nested single object", ok(`"email":{"attachments":{"file":{"name":"a.txt"}}}`), ""},
		{"nested element type", ok(`"email":{"attachments":[{"file":{"size":"12"}}]}`), "email.attachments[0].file.size: ECS type long needs a JSON number"},
		{"nested string", ok(`"email":{"attachments":["a"]}`), "email.attachments[0]: ECS type nested needs a JSON object, got string"},
		{"object array field with ECS children", ok(`"dns":{"answers":[{"name":"a.example","ttl":60,"data":"10.0.0.1"}]}`), ""},
		{"object array field unknown child", ok(`"dns":{"answers":[{"foo":1}]}`), "dns.answers[0].foo: is not an ECS field"},
		{"flattened array field", ok(`"dll":{"pe":{"imports":[{"name":"k32"},{"name":"u32"}]}}`), ""},
		{"flattened non-array field", ok(`"dll":{"pe":{"go_imports":[{"a":1}]}}`), "dll.pe.go_imports: ECS flattened field is not an array field"},
		{"free-form object leaf", ok(`"entity":{"metrics":{"cpu":{"pct":0.5}}}`), ""},
		{"group must be object", ok(`"host":"h1"`), "host: is an ECS object (parent of ECS fields) and must be a JSON object, got string"},

		// no path below an ECS leaf
		{"message object", `{"@timestamp":"2024-05-01T12:34:56.123Z","log.level":"info","message":{"x":1},"ecs.version":"9.4.0"}` + "\n", "message: is an ECS leaf field of type match_only_text; no path may descend below it"},
		{"below host.hostname", ok(`"host":{"hostname":{"a":1}}`), "host.hostname: is an ECS leaf field of type keyword; no path may descend below it"},
		{"multi-field is not a JSON field", ok(`"process":{"command_line":{"text":"ls"}}`), "process.command_line: is an ECS leaf field"},

		// labels
		{"labels strings", ok(`"labels":{"env":"prod","team_a":"x"}`), ""},
		{"labels dot key", ok(`"labels":{"a.b":"x"}`), `labels.a.b: key "a.b" is not sanitised`},
		{"labels star key", ok(`"labels":{"a*b":"x"}`), `key "a*b" is not sanitised`},
		{"labels backslash key", ok(`"labels":{"a\\b":"x"}`), `is not sanitised: the spec replaces "\\"`},
		{"labels number value", ok(`"labels":{"n":1}`), "labels.n: values of labels (object_type keyword) must be JSON strings, got number"},
		{"labels bool value", ok(`"labels":{"b":true}`), "must be JSON strings, got boolean"},
		{"labels nested object", ok(`"labels":{"o":{"x":"y"}}`), "must be JSON strings, got object"},
		{"labels not object", ok(`"labels":"x"`), "labels: ECS type object needs a JSON object"},
		{"container.labels", ok(`"container":{"labels":{"app":"web"}}`), ""},

		// custom fields
		{"custom capitalised", ok(`"Foo":{"bar":[1,{"baz":null}]},"Ünïcode":1`), ""},
		{"custom lowercase top-level", ok(`"foo":1`), "foo: unknown top-level field"},
		{"custom underscore top-level", ok(`"_foo":1`), "_foo: unknown top-level field"},
		{"custom under ECS group", ok(`"event":{"foo":1}`), "event.foo: is not an ECS field"},
		{"custom under deep group", ok(`"process":{"thread":{"foo":1}}`), "process.thread.foo: is not an ECS field"},
		{"capitalised under ECS group", ok(`"event":{"Foo":1}`), "event.Foo: is not an ECS field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.line))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want conformant, got:\n%v\nline: %q", err, tt.line)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error containing %q, got nil\nline: %q", tt.want, tt.line)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error containing %q, got:\n%v", tt.want, err)
			}
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("error is not a *Violation: %T", err)
			}
		})
	}
}

func TestCheckReportsAllViolations(t *testing.T) {
	err := Check([]byte(ok(`"foo":1,"event":{"duration":"x"},"labels":{"a.b":1}`)))
	if err == nil {
		t.Fatal("want errors")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("want joined errors, got %T", err)
	}
	if n := len(joined.Unwrap()); n != 4 {
		t.Errorf("want 4 violations, got %d:\n%v", n, err)
	}
}

func TestCheckLines(t *testing.T) {
	good := ok(`"Foo":1`)
	if errs := CheckLines([]byte(good + good)); errs != nil {
		t.Fatalf("CheckLines(good): %v", errs)
	}
	errs := CheckLines([]byte(good + ok(`"foo":1`) + good + "{}"))
	if len(errs) != 2 {
		t.Fatalf("want 2 errors, got %d: %v", len(errs), errs)
	}
	if !strings.HasPrefix(errs[0].Error(), "line 2: foo: unknown top-level field") {
		t.Errorf("errs[0] = %v", errs[0])
	}
	if !strings.HasPrefix(errs[1].Error(), "line 4: line is not terminated") {
		t.Errorf("errs[1] = %v", errs[1])
	}
	if errs := CheckLines(nil); len(errs) != 1 {
		t.Errorf("CheckLines(nil) = %v, want one error", errs)
	}
}

// fakeTB records what RequireConformant reports; the embedded nil TB
// panics if anything else is called.
type fakeTB struct {
	testing.TB
	errors []string
	failed bool
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Error(args ...any) { f.errors = append(f.errors, fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.failed = true }

func TestRequireConformant(t *testing.T) {
	RequireConformant(t, []byte(ok("")+ok(`"Bar":true`)))

	f := &fakeTB{}
	RequireConformant(f, []byte(ok("")+ok(`"bar":true`)))
	if !f.failed || len(f.errors) != 1 || !strings.Contains(f.errors[0], "line 2: bar:") {
		t.Errorf("RequireConformant on a bad line: failed=%v errors=%q", f.failed, f.errors)
	}
}

// TestSchemaSanity checks that the spec files were found and read as
// expected.
func TestSchemaSanity(t *testing.T) {
	s, err := getSchema()
	if err != nil {
		t.Fatal(err)
	}
	if s.version != "9.4.0" {
		t.Errorf("version = %q", s.version)
	}
	if n := len(s.fields); n < 2000 {
		t.Errorf("only %d ECS fields loaded", n)
	}
	known := map[string]string{
		"@timestamp":                "date",
		"log.level":                 "keyword",
		"message":                   "match_only_text",
		"ecs.version":               "keyword",
		"labels":                    "object",
		"event.duration":            "long",
		"process.thread.id":         "long",
		"http.response.status_code": "long",
		"host.ip":                   "ip",
		"trace.id":                  "keyword",
	}
	for name, typ := range known {
		if got := s.fields[name].typ; got != typ {
			t.Errorf("%s: type %q, want %q", name, got, typ)
		}
	}
	if _, ok := s.fields["process.command_line.text"]; ok {
		t.Error("multi-field process.command_line.text must not be a field")
	}
	if !s.groups["host"] || !s.groups["process.thread"] || s.groups["labels"] {
		t.Error("implicit groups wrong")
	}
	if s.fields["labels"].objectType != "keyword" || !s.fields["labels"].leaf {
		t.Errorf("labels: %+v", s.fields["labels"])
	}
	if !s.fields["host.ip"].array || s.fields["host.name"].array {
		t.Error("normalize: [array] not read")
	}
	if got, want := strings.Join(s.order, ","), "@timestamp,log.level,message,ecs.version"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
	if got, want := strings.Join(s.required, ","), "@timestamp,log.level,ecs.version"; got != want {
		t.Errorf("required = %s, want %s", got, want)
	}
	if !s.topLevel["log.level"] || !s.topLevel["ecs.version"] || len(s.topLevel) != 2 {
		t.Errorf("topLevel = %v", s.topLevel)
	}
	if got := strings.Join(s.sanitize["labels"], ""); got != `.*\` {
		t.Errorf("labels sanitisation = %q", got)
	}

	// Every field of the ecs-logging spec is an ECS field whose ECS type
	// fits the spec's coarse type.
	compatible := map[string][]string{
		"datetime": {"date"},
		"string":   {"keyword", "match_only_text", "wildcard", "text"},
		"integer":  {"long", "integer"},
		"object":   {"object"},
	}
	for name, sf := range s.spec {
		f, ok := s.fields[name]
		if !ok {
			t.Errorf("spec field %s is not in ecs_flat.yml", name)
			continue
		}
		found := false
		for _, typ := range compatible[sf.Type] {
			found = found || typ == f.typ
		}
		if !found {
			t.Errorf("spec field %s: spec type %s vs ECS type %s", name, sf.Type, f.typ)
		}
	}
}

// TestComposableTemplateAgrees checks that the ECS composable index
// templates (ecs/testdata/composable/component) map the fields the encoder
// writes to the same types as ecs_flat.yml, and that every field of the
// copied components agrees with ecs_flat.yml.
func TestComposableTemplateAgrees(t *testing.T) {
	s, err := getSchema()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testdataFS, "composable", "component")
	mapped := make(map[string]string)
	for _, name := range []string{"base", "ecs", "event", "http", "log", "process"} {
		raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var comp struct {
			Meta struct {
				ECSVersion string `json:"ecs_version"`
			} `json:"_meta"`
			Template struct {
				Mappings struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(raw, &comp); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		if comp.Meta.ECSVersion != s.version {
			t.Errorf("%s.json: ecs_version %q, want %q", name, comp.Meta.ECSVersion, s.version)
		}
		flattenMapping(t, "", comp.Template.Mappings.Properties, mapped)
	}

	for name, want := range map[string]string{
		"@timestamp":                "date",
		"log.level":                 "keyword",
		"message":                   "match_only_text",
		"ecs.version":               "keyword",
		"event.duration":            "long",
		"process.thread.id":         "long",
		"http.response.status_code": "long",
		"labels":                    "object",
	} {
		if got := mapped[name]; got != want {
			t.Errorf("template maps %s as %q, want %q", name, got, want)
		}
		if got := s.fields[name].typ; got != want {
			t.Errorf("ecs_flat.yml types %s as %q, want %q", name, got, want)
		}
	}
	if len(mapped) < 100 {
		t.Fatalf("only %d fields in the templates", len(mapped))
	}
	for name, typ := range mapped {
		f, ok := s.fields[name]
		if !ok {
			t.Errorf("template field %s (%s) is not in ecs_flat.yml", name, typ)
			continue
		}
		if f.typ != typ {
			t.Errorf("%s: template type %s, ecs_flat.yml type %s", name, typ, f.typ)
		}
	}
}

// flattenMapping turns Elasticsearch mapping properties into flat name ->
// type. Objects given only as "properties" are implicit and skipped, like in
// ecs_flat.yml; multi-fields ("fields") are not JSON fields and skipped.
func flattenMapping(t *testing.T, prefix string, props map[string]json.RawMessage, out map[string]string) {
	t.Helper()
	for key, raw := range props {
		var m struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s%s: %v", prefix, key, err)
		}
		name := prefix + key
		if m.Type != "" {
			out[name] = m.Type
		}
		if m.Properties != nil {
			flattenMapping(t, name+".", m.Properties, out)
		}
	}
}

// FuzzCheck: Check must never panic, and anything it accepts is a single
// '\n'-terminated JSON object.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(ok("")))
	f.Add([]byte(ok(`"labels":{"a":"b"},"Foo":[1,{"x":null}]`)))
	f.Add([]byte(ok(`"Foo":"\ud800\udc00\u0041\\u"`)))
	f.Add([]byte("{\"a\":\"\\ud800\"}\n"))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if Check(line) != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || line[len(line)-1] != '\n' {
			t.Fatalf("accepted %q: %v", line, err)
		}
	})
}
