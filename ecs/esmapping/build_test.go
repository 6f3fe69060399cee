package esmapping_test

import (
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog/ecs/esmapping"
	"github.com/pipelog/pipelog/ecs/esmapping/internal/othertypes"
	"github.com/pipelog/pipelog/event"
)

type textID string

func (t textID) MarshalText() ([]byte, error) { return []byte(t), nil }

type raw struct{}

func (raw) MarshalJSON() ([]byte, error) { return []byte(`{"x":1}`), nil }

type Inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

// AllKinds has one field of every kind the rules map.
type AllKinds struct {
	event.Base
	S       string
	Text    string `mapping:"text"`
	MOT     string `mapping:"match_only_text"`
	Wild    string `mapping:"wildcard"`
	B       bool
	I       int
	I8      int8
	U32     uint32
	U64     uint64
	F32     float32
	F64     float64
	T       time.Time
	D       time.Duration
	Strs    []string
	Err     error
	ID      textID
	Raw     raw
	Any     any
	Ptr     *int
	In      Inner
	InPtr   *Inner
	List    []Inner
	Arr     [2]float64
	Bytes   []byte
	M       map[string]int
	MObj    map[string]int   `mapping:"object"`
	MStruct map[string]Inner `mapping:"object"`
	None    Inner            `mapping:"none"`
	IP      net.IP
	Dotted  string        `json:"a.b"`
	URL     string        `ecs:"url.path"`
	Dur     time.Duration `ecs:"event.duration"`
	Tenant  string        `ecs:"labels.tenant"`
}

func mappingOf(t *testing.T, m *esmapping.Mappings, path string) string {
	t.Helper()
	f, ok := m.Field(path)
	if !ok {
		t.Errorf("%s: not mapped", path)
		return ""
	}
	b, _ := json.Marshal(f.Mapping)
	return string(b)
}

func TestRules(t *testing.T) {
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[AllKinds]()}})
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	kw := `{"ignore_above":1024,"type":"keyword"}`
	for path, want := range map[string]string{
		"S": kw, "Text": `{"type":"text"}`, "MOT": `{"type":"match_only_text"}`, "Wild": `{"type":"wildcard"}`,
		"B": `{"type":"boolean"}`, "I": `{"type":"long"}`, "I8": `{"type":"long"}`, "U32": `{"type":"long"}`,
		"U64": `{"type":"unsigned_long"}`, "F32": `{"type":"double"}`, "F64": `{"type":"double"}`,
		"T": `{"format":"strict_date_optional_time","type":"date"}`, "D": `{"type":"long"}`, "Strs": kw,
		"Err": kw, "ID": kw, "Raw": `{"enabled":false,"type":"object"}`, "Any": `{"enabled":false,"type":"object"}`,
		"Ptr": `{"type":"long"}`, "In": `{"type":"object"}`, "In.a": `{"type":"long"}`, "In.b": kw,
		"InPtr.a": `{"type":"long"}`, "List": `{"type":"object"}`, "List.a": `{"type":"long"}`,
		"Arr": `{"type":"double"}`, "Bytes": `{"type":"binary"}`, "M": `{"type":"flattened"}`,
		"MObj": `{"type":"object"}`, "MStruct": `{"type":"object"}`, "None": `{"enabled":false,"type":"object"}`,
		"IP": kw, "a.b": kw,
	} {
		if got := mappingOf(t, m, "Pipelog.AllKinds."+path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	// ECS-tagged fields take ECS's mapping.
	if got := mappingOf(t, m, "url.path"); got != `{"type":"wildcard"}` {
		t.Errorf("url.path: %s", got)
	}
	if got := mappingOf(t, m, "event.duration"); got != `{"type":"long"}` {
		t.Errorf("event.duration: %s", got)
	}
	if _, ok := m.Field("labels.tenant"); ok {
		t.Error("labels.tenant mapped explicitly; the labels dynamic template maps every label")
	}
	// Nothing is mapped below a value that takes every key.
	for _, p := range []string{"Pipelog.AllKinds.None.a", "Pipelog.AllKinds.M.*"} {
		if _, ok := m.Field(p); ok {
			t.Errorf("%s mapped below a covering field", p)
		}
	}
	// Maps opted into object: dynamic templates for their values, deepest
	// first, before the catch-alls.
	var names []string
	for _, d := range m.Dynamic {
		names = append(names, d.Name+"@"+d.PathMatch+":"+d.MatchMappingType)
	}
	got := strings.Join(names, "\n")
	for _, want := range []string{
		"pipelog_Pipelog_AllKinds_MStruct_any_a_long@Pipelog.AllKinds.MStruct.*.a:long",
		"pipelog_Pipelog_AllKinds_MObj_any_long@Pipelog.AllKinds.MObj.*:long",
		"pipelog_labels@labels.*:string", "pipelog_objects@Pipelog.*:object",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dynamic templates lack %s:\n%s", want, got)
		}
	}
	if strings.Index(got, "MStruct.*.a") > strings.Index(got, "MStruct.*:object") {
		t.Errorf("a deeper template after a shallower one:\n%s", got)
	}
	// The library's own fields carry their ECS mappings; @timestamp and
	// data_stream.* are logs@mappings'.
	if got := mappingOf(t, m, "error.stack_trace"); !strings.Contains(got, `"wildcard"`) {
		t.Errorf("error.stack_trace: %s", got)
	}
	for _, p := range []string{"@timestamp", "data_stream.dataset"} {
		if _, ok := m.Field(p); ok {
			t.Errorf("%s mapped: logs@mappings maps it", p)
		}
	}
}

func TestTagsThatDoNotApply(t *testing.T) {
	type Ev struct {
		event.Base
		N int               `mapping:"text"`
		S string            `mapping:"object"`
		M map[string]string `mapping:"bogus"`
	}
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[Ev]()}})
	var msgs []string
	for _, p := range m.Problems {
		if p.Severity == esmapping.Warning {
			msgs = append(msgs, p.String())
		}
	}
	if len(msgs) != 3 {
		t.Fatalf("want 3 warnings, got %q", msgs)
	}
	if got := mappingOf(t, m, "Pipelog.Ev.N"); got != `{"type":"long"}` {
		t.Errorf("N: %s", got)
	}
}

func TestBuildConflicts(t *testing.T) {
	type A struct {
		event.Base
		X string `json:"x"`
	}
	type Items struct {
		L  float64 `json:"l"`
		LX int     `json:"l.x"`
	}
	type B struct {
		event.Base
		Items []Items
	}
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[A](), reflect.TypeFor[B]()}})
	err := m.Err()
	if err == nil || !strings.Contains(err.Error(), "Pipelog.B.Items.l") {
		t.Fatalf("a key and a dotted key below it: %v", err)
	}
	same := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[A](), reflect.TypeFor[A]()}})
	if err := same.Err(); err != nil {
		t.Fatalf("one type twice: %v", err)
	}
	// A type the encoder refuses is an error too.
	type Bad struct {
		event.Base
		C chan int
	}
	if err := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[Bad]()}}).Err(); err == nil {
		t.Fatal("a chan field passed")
	}
}

// Two event types named alike (from two packages) share Pipelog.<Name>:
// Build reports where they disagree.
func TestSameNameDifferentTypes(t *testing.T) {
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[Started](), reflect.TypeFor[othertypes.Started]()}})
	err := m.Err()
	if err == nil || !strings.Contains(err.Error(), "Pipelog.Started.n") {
		t.Fatalf("%v", err)
	}
}

type Started struct {
	event.Base
	N string `json:"n"`
}

func TestDefaultTypes(t *testing.T) {
	type Registered struct {
		event.Base
		Q string
	}
	esmapping.Register[Registered]()
	esmapping.Register[Registered]()
	m := esmapping.Build(esmapping.Options{})
	if _, ok := m.Field("Pipelog.Registered.Q"); !ok {
		t.Error("a registered type is not mapped by default")
	}
	if _, ok := m.Field("Pipelog.JobStarted.job"); !ok {
		t.Error("the library's own events are not mapped by default")
	}
	if n := strings.Count(strings.Join(m.Types, ","), "Registered"); n != 1 {
		t.Errorf("registered twice, mapped %d times", n)
	}
}

func TestSimpleMatch(t *testing.T) {
	for _, c := range []struct {
		rule, path, typ string
		want            bool
	}{
		{"ecs_wildcard", "Pipelog.OrderConsumed.message_id", "string", true},
		{"ecs_wildcard", "message_id", "string", false}, // *.message_id needs a dot before
		{"ecs_ip", "Pipelog.E.client_ip", "string", true},
		{"ecs_ip", "Pipelog.E.ip", "long", false}, // strings only
		{"ecs_date", "Pipelog.E.window.start", "string", true},
		{"ecs_date", "Pipelog.E.start", "object", false},
		{"ecs_path_match_float", "Pipelog.E.risk_score_norm", "long", true},
		{"ecs_path_match_float", "Pipelog.E.score.version", "long", false},
		{"ecs_match_wildcard_and_match_only_text", "Pipelog.E.my_command_line", "string", true},
		{"ecs_geo_point", "Pipelog.E.location", "string", true}, // the older releases' rule
		{"ecs_message_match_only_text", "Pipelog.E.message", "object", false},
	} {
		var hit bool
		for i := range esmapping.ECSDynamicRules {
			r := &esmapping.ECSDynamicRules[i]
			if r.Name == c.rule && r.Matches(c.path, c.typ) {
				hit = true
			}
		}
		if hit != c.want {
			t.Errorf("%s on %s (%s): %v, want %v", c.rule, c.path, c.typ, hit, c.want)
		}
	}
	if r := esmapping.ECSRuleFor("Pipelog.E.location", "string", false); r == nil || r.Name != "all_strings_to_keywords" {
		t.Errorf("9.x: *.location is not a geo_point rule any more, got %+v", r)
	}
}

// The traps the issue names are found without our template, and none
// decides once it is installed.
func TestTrapsDefused(t *testing.T) {
	type OrderConsumed struct {
		event.Base
		MessageID string    `json:"message_id"`
		Location  string    `json:"location"`
		ClientIP  string    `json:"client_ip"`
		Start     string    `json:"start"`
		Score     int       `json:"risk_score"`
		At        time.Time `json:"at"`
	}
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[OrderConsumed]()}})
	got := map[string]string{}
	for _, tr := range m.Traps(true) {
		got[tr.Field.Path] = tr.Rule + ":" + tr.Type
	}
	want := map[string]string{
		"Pipelog.OrderConsumed.message_id": "ecs_wildcard:wildcard",
		"Pipelog.OrderConsumed.location":   "ecs_geo_point:geo_point",
		"Pipelog.OrderConsumed.client_ip":  "ecs_ip:ip",
		"Pipelog.OrderConsumed.start":      "ecs_date:date",
		"Pipelog.OrderConsumed.risk_score": "ecs_path_match_float:float",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("traps %v,\nwant %v", got, want)
	}
	for _, f := range m.Fields {
		if d := m.Decide(f.Path, esmapping.JSONType(f.Value), true); d.By == "ecs@mappings" || d.By == "default" {
			t.Errorf("%s: decided by %+v with the template installed", f.Path, d)
		}
	}
	for _, p := range m.Lint(0) {
		if p.Severity == esmapping.Error {
			t.Errorf("lint: %s", p)
		}
	}
}

func TestLintFieldCount(t *testing.T) {
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[AllKinds]()}})
	n := m.FieldCount()
	if n < 40 {
		t.Fatalf("field count %d: the library alone maps more", n)
	}
	last := func(ps []esmapping.Problem) esmapping.Problem {
		for _, p := range ps {
			if strings.Contains(p.Msg, " fields mapped") {
				return p
			}
		}
		t.Fatal("no field count in the lint")
		return esmapping.Problem{}
	}
	if p := last(m.Lint(0)); p.Severity != esmapping.Info || !strings.Contains(p.Msg, fmt.Sprint(n+5)) {
		t.Errorf("default limit: %s", p)
	}
	if p := last(m.Lint(n + 6)); p.Severity != esmapping.Warning {
		t.Errorf("close to the limit: %s", p)
	}
	if p := last(m.Lint(n)); p.Severity != esmapping.Error {
		t.Errorf("over the limit: %s", p)
	}
}

func TestLintECSFit(t *testing.T) {
	type Ev struct {
		event.Base
		Uptime time.Duration `ecs:"process.uptime"` // the encoder writes seconds there
		IP     string        `ecs:"client.ip"`
	}
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[Ev]()}})
	var ip bool
	for _, p := range m.Lint(0) {
		ip = ip || p.Path == "client.ip" && strings.Contains(p.Msg, "Pipelog.Ev.IP")
		if p.Severity >= esmapping.Warning {
			t.Errorf("%s", p)
		}
	}
	if !ip {
		t.Errorf("a string on client.ip: no note of where a non-address goes\n%v", m.Lint(0))
	}
	if _, ok := m.Field("Pipelog.Ev.IP"); !ok {
		t.Error("the custom path a non-address string moves to is not mapped")
	}
	// A duration where ECS gives no unit: the encoder refuses the field.
	type Bad struct {
		event.Base
		D time.Duration `ecs:"http.response.body.bytes"`
	}
	if err := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[Bad]()}}).Err(); err == nil || !strings.Contains(err.Error(), "time unit") {
		t.Errorf("%v", err)
	}
}

func TestJSONIsStable(t *testing.T) {
	a := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[AllKinds]()}}).JSON()
	b := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[AllKinds]()}}).JSON()
	if string(a) != string(b) {
		t.Fatal("two builds of one type differ")
	}
	var v struct {
		Dynamic    []map[string]json.RawMessage `json:"dynamic_templates"`
		Properties map[string]json.RawMessage   `json:"properties"`
	}
	if err := json.Unmarshal(a, &v); err != nil || len(v.Dynamic) == 0 || v.Properties["Pipelog"] == nil {
		t.Fatalf("%v: %s", err, a)
	}
}
