package esmapping_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/ecs/esmapping"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/internal/testlog"
)

// The property: for random event types (nested structs, pointers, maps,
// slices, arrays, interfaces, json/ecs/mapping tags), every value the
// encoder really writes — lines of a Logger, not a re-derivation — lands on
// a field the generated mapping maps explicitly (or, below a map opted into
// object, by one of its own dynamic templates), with a type that takes the
// written JSON value; no generated path disagrees with ECS, and the types
// of one run, mapped together, never conflict.

// typeGen makes random event types and values of them.
type typeGen struct {
	r   *rand.Rand
	seq int
}

var (
	baseField = reflect.StructField{Name: "Base", Type: reflect.TypeFor[event.Base](), Anonymous: true}
	scalars   = []reflect.Type{
		reflect.TypeFor[string](), reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](),
		reflect.TypeFor[int16](), reflect.TypeFor[int32](), reflect.TypeFor[int64](), reflect.TypeFor[uint](),
		reflect.TypeFor[uint8](), reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](),
		reflect.TypeFor[float32](), reflect.TypeFor[float64](), reflect.TypeFor[time.Time](),
		reflect.TypeFor[time.Duration](), reflect.TypeFor[[]string](), reflect.TypeFor[error](),
		reflect.TypeFor[net.IP](), reflect.TypeFor[netip.Addr](), reflect.TypeFor[textID](), reflect.TypeFor[raw](),
	}
	// ECS fields a random type may claim, with a Go type that fits each.
	ecsClaims = []struct {
		path string
		typ  reflect.Type
	}{
		{"url.path", reflect.TypeFor[string]()}, {"http.response.body.bytes", reflect.TypeFor[int64]()},
		{"event.duration", reflect.TypeFor[time.Duration]()}, {"user_agent.original", reflect.TypeFor[string]()},
		{"client.ip", reflect.TypeFor[string]()}, {"event.start", reflect.TypeFor[time.Time]()},
		{"source.ip", reflect.TypeFor[netip.Addr]()}, {"related.ip", reflect.TypeFor[[]string]()},
		{"process.uptime", reflect.TypeFor[time.Duration]()},
		{"labels.tenant", reflect.TypeFor[string]()}, {"file.size", reflect.TypeFor[uint32]()},
		{"related.hosts", reflect.TypeFor[[]string]()}, {"event.outcome", reflect.TypeFor[string]()},
	}
	suffixNames = []string{"message_id", "location", "ip", "client_ip", "start", "end", "created", "url.path",
		"usage", "name", "title", "risk_score", "score.x", "command_line", "structured_data", "message", "timestamp"}
)

// name is a key: a plain word, or one of the suffixes ecs@mappings' rules
// match, sometimes dotted (dots: levels of objects once indexed).
func (g *typeGen) name(dots bool) string {
	if g.r.IntN(3) == 0 {
		n := suffixNames[g.r.IntN(len(suffixNames))]
		if !dots && strings.Contains(n, ".") {
			n = strings.ReplaceAll(n, ".", "_")
		}
		return n
	}
	var b strings.Builder
	for range 1 + g.r.IntN(8) {
		b.WriteByte(byte('a' + g.r.IntN(26)))
	}
	if dots && g.r.IntN(6) == 0 {
		b.WriteString("." + g.name(false))
	}
	return b.String()
}

// fieldType is a random field type; inJSON: it is written by
// encoding/json (inside a map, slice or array).
func (g *typeGen) fieldType(depth int, inJSON bool) reflect.Type {
	n := g.r.IntN(20)
	if depth >= 3 && n >= 12 {
		n = g.r.IntN(12)
	}
	switch {
	case n < 11:
		t := scalars[g.r.IntN(len(scalars))]
		if inJSON && t == reflect.TypeFor[error]() {
			t = reflect.TypeFor[string]() // encoding/json writes an error as {}
		}
		return t
	case n == 11:
		return reflect.TypeFor[any]()
	case n == 12:
		return reflect.PointerTo(g.fieldType(depth+1, inJSON))
	case n == 13 || n == 14:
		return g.structType(depth+1, inJSON)
	case n == 15:
		return reflect.MapOf(reflect.TypeFor[string](), g.fieldType(depth+1, true))
	case n == 16 || n == 17:
		return reflect.SliceOf(g.fieldType(depth+1, true))
	case n == 18:
		return reflect.ArrayOf(1+g.r.IntN(3), g.fieldType(depth+1, true))
	}
	return reflect.TypeFor[[]byte]()
}

func (g *typeGen) structType(depth int, inJSON bool) reflect.Type {
	var fields []reflect.StructField
	used := map[string]bool{}
	for i := range 1 + g.r.IntN(4) {
		fields = append(fields, g.field(i, depth, inJSON, used, false))
	}
	return reflect.StructOf(fields)
}

// field is one random struct field with random tags.
func (g *typeGen) field(i, depth int, inJSON bool, used map[string]bool, top bool) reflect.StructField {
	g.seq++
	f := reflect.StructField{Name: fmt.Sprintf("F%d_%d", i, g.seq)}
	var tags []string
	if top && g.r.IntN(6) == 0 {
		c := ecsClaims[g.r.IntN(len(ecsClaims))]
		if !used["ecs:"+c.path] {
			used["ecs:"+c.path] = true
			f.Type = c.typ
			f.Tag = reflect.StructTag(`ecs:"` + c.path + `"`)
			return f
		}
	}
	f.Type = g.fieldType(depth, inJSON)
	if g.r.IntN(2) == 0 {
		// A key and a dotted key below it ("l" and "l.x") cannot both be
		// mapped: Build reports that (TestBuildConflicts); the property is
		// about types Elasticsearch can index.
		name := g.name(inJSON)
		for head, _, _ := strings.Cut(name, "."); used[name] || used["head:"+head] || used["key:"+head]; head, _, _ = strings.Cut(name, ".") {
			name = "x" + name
		}
		used[name] = true
		head, _, dotted := strings.Cut(name, ".")
		if dotted {
			used["head:"+head] = true
		} else {
			used["key:"+name] = true
		}
		opt := ""
		if g.r.IntN(3) == 0 {
			opt = ",omitempty"
		}
		tags = append(tags, `json:"`+name+opt+`"`)
	}
	switch {
	case f.Type.Kind() == reflect.String && g.r.IntN(3) == 0:
		tags = append(tags, `mapping:"`+[]string{"text", "match_only_text", "wildcard", "keyword"}[g.r.IntN(4)]+`"`)
	case f.Type.Kind() == reflect.Map && g.r.IntN(2) == 0:
		tags = append(tags, `mapping:"object"`)
	case g.r.IntN(25) == 0:
		tags = append(tags, `mapping:"none"`)
	}
	f.Tag = reflect.StructTag(strings.Join(tags, " "))
	return f
}

// eventType is a random event type: event.Base and some fields.
func (g *typeGen) eventType() reflect.Type {
	fields := []reflect.StructField{baseField}
	used := map[string]bool{}
	for i := range 1 + g.r.IntN(7) {
		fields = append(fields, g.field(i, 0, false, used, true))
	}
	return reflect.StructOf(fields)
}

// fill sets v (addressable) to a random value; ip: a string that must be
// an IP address (client.ip).
func (g *typeGen) fill(v reflect.Value, depth int, tag reflect.StructTag) {
	if g.r.IntN(8) == 0 && depth > 0 {
		return // the zero value
	}
	switch v.Kind() {
	case reflect.String:
		if strings.Contains(string(tag), `.ip"`) && g.r.IntN(3) > 0 {
			v.SetString(fmt.Sprintf("10.0.%d.%d", g.r.IntN(256), g.r.IntN(256)))
			return // else a string that is no address: the encoder moves it below Pipelog
		}
		v.SetString([]string{"x", "hello world", "ünï\u2028code", `q"uo\te`, "", "<b>&</b>", "1234"}[g.r.IntN(7)])
	case reflect.Bool:
		v.SetBool(g.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		x := []int64{0, 1, -1, math.MaxInt64 >> (64 - bits), math.MinInt64 >> (64 - bits), g.r.Int64N(1000)}[g.r.IntN(6)]
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		bits := v.Type().Bits()
		v.SetUint([]uint64{0, 1, math.MaxUint64 >> (64 - bits), g.r.Uint64N(1000)}[g.r.IntN(4)])
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0, 1.5, -2, 3, math.NaN(), math.Inf(1), 1e300, g.r.Float64()}[g.r.IntN(8)])
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[net.IP]() {
			v.Set(reflect.ValueOf([]net.IP{nil, net.IPv4(10, 1, 2, 3), net.ParseIP("::1")}[g.r.IntN(3)]))
			return
		}
		if v.Type() == reflect.TypeFor[[]byte]() {
			v.SetBytes([]byte("bytes\x00\xff"))
			return
		}
		n := g.r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			g.fill(s.Index(i), depth+1, tag)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			g.fill(v.Index(i), depth+1, tag)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range g.r.IntN(3) {
			e := reflect.New(v.Type().Elem()).Elem()
			g.fill(e, depth+1, "")
			m.SetMapIndex(reflect.ValueOf(g.name(false)), e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), depth+1, tag)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[netip.Addr]() {
			v.Set(reflect.ValueOf([]netip.Addr{{}, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::1")}[g.r.IntN(3)]))
			return
		}
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2020+g.r.IntN(10), 3, 4, 5, 6, 7, g.r.IntN(1e9), time.FixedZone("x", 3600*g.r.IntN(5)))))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Type != reflect.TypeFor[event.Base]() {
				g.fill(v.Field(i), depth+1, f.Tag)
			}
		}
	case reflect.Interface:
		switch {
		case v.Type() == reflect.TypeFor[error]():
			v.Set(reflect.ValueOf(errors.New("boom")))
		default:
			if x := []any{"s", 1.5, int64(7), true, map[string]any{"k": []any{1, "x"}}, nil}[g.r.IntN(6)]; x != nil {
				v.Set(reflect.ValueOf(x))
			}
		}
	}
}

// emit writes ev, a pointer to a value of an event type, through log, as
// Emit does for a type known at compile time.
func emit(log *pipelog.Logger, ev reflect.Value) {
	h := core.LoggerHandle(log)
	ti := encode.TypeOf(ev.Type().Elem())
	p := ev.UnsafePointer()
	h.C.EmitEvent(context.Background(), h.Fixed, ti, ti.Level(p), p, p, 1)
}

func propertySeed(t *testing.T) uint64 {
	if s := os.Getenv("PIPELOG_PROPERTY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

func TestPropertyWrittenPathsAreMapped(t *testing.T) {
	seed := propertySeed(t)
	t.Logf("seed %d (PIPELOG_PROPERTY_SEED=%d reproduces it)", seed, seed)
	g := &typeGen{r: rand.New(rand.NewPCG(seed, 1))}
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	for round := range rounds {
		var types []reflect.Type
		for range 1 + g.r.IntN(6) {
			types = append(types, g.eventType())
		}
		m := esmapping.Build(esmapping.Options{Types: types})
		for _, p := range m.Problems {
			if p.Severity == esmapping.Error {
				t.Fatalf("seed %d round %d: %s\ntypes: %v", seed, round, p, types)
			}
		}
		checkAgainstECS(t, m)
		log, mem, _ := testlog.Logger(t, pipelog.Config{Service: "prop", DataStream: &pipelog.DataStream{},
			Fields: []pipelog.Field{{Key: "tenant", Value: "acme"}}})
		for _, typ := range types {
			for range 3 {
				ev := reflect.New(typ)
				g.fill(ev.Elem(), 0, "")
				emit(log, ev)
			}
		}
		_ = log.Close(context.Background())
		lines := mem.Lines()
		if len(lines) != 3*len(types) {
			t.Fatalf("seed %d round %d: %d lines for %d events", seed, round, len(lines), 3*len(types))
		}
		for _, line := range lines {
			mis, err := m.Check(line, true)
			if err != nil {
				t.Fatalf("seed %d: %v: %s", seed, err, line)
			}
			for _, x := range mis {
				t.Errorf("seed %d round %d: %s (by %+v)\nline: %s", seed, round, x, x.Decision, line)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// checkAgainstECS: a generated path that is an ECS field has ECS's own
// mapping; no custom path lies on or below an ECS field.
func checkAgainstECS(t *testing.T, m *esmapping.Mappings) {
	t.Helper()
	for _, f := range m.Fields {
		if f.ECS {
			if _, isECS := esmapping.ECSFieldMapping(f.Path); !isECS {
				t.Errorf("%s is marked ECS but is not an ECS field", f.Path)
			}
			want, _ := esmapping.ECSFieldMapping(f.Path)
			if fmt.Sprint(want) != fmt.Sprint(f.Mapping) {
				t.Errorf("%s: mapped %v, ECS maps it %v", f.Path, f.Mapping, want)
			}
			continue
		}
		if !strings.HasPrefix(f.Path, "Pipelog.") && f.Path != "labels" {
			t.Errorf("custom field %s outside Pipelog", f.Path)
		}
		for p := f.Path; strings.Contains(p, "."); p = p[:strings.LastIndexByte(p, '.')] {
			if _, isECS := esmapping.ECSFieldMapping(p); isECS && p != "labels" {
				t.Errorf("custom field %s lies on or below the ECS field %s", f.Path, p)
			}
		}
	}
}

// The checker the property rests on can fail: a random type nobody
// registered is mapped only by the catch-all templates, and a value of the
// wrong type is caught.
func TestPropertyCheckerCatches(t *testing.T) {
	g := &typeGen{r: rand.New(rand.NewPCG(7, 7))}
	typ := reflect.StructOf([]reflect.StructField{baseField, {Name: "Count", Type: reflect.TypeFor[int](), Tag: `json:"message_id"`}})
	log, mem, _ := testlog.Logger(t, pipelog.Config{Service: "prop"})
	ev := reflect.New(typ)
	g.fill(ev.Elem(), 0, "")
	emit(log, ev)
	_ = log.Close(context.Background())
	line := mem.Lines()[0]

	unregistered := esmapping.Build(esmapping.Options{Types: []reflect.Type{}})
	mis, err := unregistered.Check(line, true)
	if err != nil || len(mis) == 0 {
		t.Fatalf("unregistered type: %v %v", mis, err)
	}
	for _, x := range mis {
		if !strings.Contains(x.Msg, "catch-all") {
			t.Errorf("unregistered type: %s", x)
		}
	}
	registered := esmapping.Build(esmapping.Options{Types: []reflect.Type{typ}})
	if mis, _ := registered.Check(line, true); len(mis) != 0 {
		t.Fatalf("registered type: %v", mis)
	}
	bad := regexp.MustCompile(`"message_id":-?\d+`).ReplaceAll(line, []byte(`"message_id":"x"`))
	if mis, _ := registered.Check(bad, true); len(mis) == 0 {
		t.Fatalf("a string on a long field passed: %s", bad)
	}
}
