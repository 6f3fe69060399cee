package esmapping

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Mismatch is a value of a line that the mapping does not take as it is.
type Mismatch struct {
	Path  string
	Value string // the JSON value, cut to 80 bytes
	// Decision is how the index would map the field.
	Decision Decision
	Msg      string
}

func (m Mismatch) String() string { return m.Path + " = " + m.Value + ": " + m.Msg }

// Check reads one NDJSON line the way Elasticsearch does (a key's dots are
// levels of objects; arrays hold values of their field) and returns every
// value the index composed of logs@mappings, m and ecs@mappings would not
// take as written: a field m leaves to ecs@mappings or to Elasticsearch's
// default dynamic mapping, or a value its mapping type rejects (a string
// that is no IP address on an ip field, a fraction on a long). With
// strict, a field that only the catch-all dynamic templates below Pipelog
// map is a mismatch too: an event type that nobody registered.
func (m *Mappings) Check(line []byte, strict bool) ([]Mismatch, error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("esmapping: not a JSON object: %w", err)
	}
	c := checker{m: m, strict: strict}
	c.object("", v)
	sort.Slice(c.out, func(i, j int) bool { return c.out[i].Path < c.out[j].Path })
	return c.out, nil
}

// CheckLines is Check of every line of ndjson; a line that is not JSON is
// an error.
func (m *Mappings) CheckLines(ndjson []byte, strict bool) ([]Mismatch, error) {
	var out []Mismatch
	for line := range bytes.Lines(ndjson) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		mis, err := m.Check(line, strict)
		if err != nil {
			return out, err
		}
		out = append(out, mis...)
	}
	return out, nil
}

type checker struct {
	m      *Mappings
	strict bool
	out    []Mismatch
}

func (c *checker) object(prefix string, obj map[string]any) {
	for k, v := range obj {
		c.value(prefix+k, v)
	}
}

func (c *checker) value(path string, v any) {
	switch x := v.(type) {
	case nil:
		return // null is no value: it fits every mapping
	case []any:
		for _, e := range x {
			c.value(path, e)
		}
		return
	}
	d := c.m.Decide(path, detect(v), true)
	obj, isObj := v.(map[string]any)
	switch d.By {
	case "ecs@mappings", "default":
		if em, isECS := ecsMapping(path); isECS && sameType(em.Type(), d.Type) {
			break // an ECS field ecs@mappings maps as ECS does (an adapter's attribute, say)
		}
		c.add(path, v, d, fmt.Sprintf("not in pipelog's mapping: %s decides (%s %s)", d.By, d.Name, d.Type))
		return
	case "covered":
		return // the covering ancestor took the whole value
	case "dynamic":
		if c.strict && catchAll[d.Name] && !(isObj && d.Name == "pipelog_objects" && c.underMap(path)) {
			c.add(path, v, d, "mapped only by the catch-all dynamic template "+d.Name+": no registered event type writes it")
		}
	}
	if d.Mapping["enabled"] == false {
		return // kept in _source, not indexed: any value
	}
	if isObj && (d.Type == "object" || d.Type == "nested") {
		c.object(path+".", obj)
		return
	}
	if msg := fits(d.Type, v); msg != "" {
		c.add(path, v, d, msg)
	}
}

// underMap: path lies below a map opted into object, where dotted keys
// make objects of their own.
func (c *checker) underMap(path string) bool {
	for _, dt := range c.m.Dynamic {
		if !catchAll[dt.Name] && simpleMatch(dt.PathMatch, path+".x") {
			return true
		}
	}
	return false
}

// sameType: ecs@mappings' rule gives the ECS type (its multi-fields
// aside).
func sameType(ecs, dynamic string) bool {
	return ecs == dynamic
}

var catchAll = map[string]bool{"pipelog_strings": true, "pipelog_longs": true, "pipelog_doubles": true,
	"pipelog_booleans": true, "pipelog_objects": true}

func (c *checker) add(path string, v any, d Decision, msg string) {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	c.out = append(c.out, Mismatch{Path: path, Value: s, Decision: d, Msg: msg})
}

// detect is the type Elasticsearch's dynamic mapping detects for v.
func detect(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "double"
		}
		return "long"
	case map[string]any:
		return "object"
	}
	return ""
}

var (
	minLong = big.NewInt(math.MinInt64)
	maxLong = big.NewInt(math.MaxInt64)
	maxULng = new(big.Int).SetUint64(math.MaxUint64)
)

// fits says why a field of mapping type typ rejects the JSON value v, or
// "" when it takes it.
func fits(typ string, v any) string {
	_, isObj := v.(map[string]any)
	s, isStr := v.(string)
	n, isNum := v.(json.Number)
	_, isBool := v.(bool)
	want := func(what string) string { return fmt.Sprintf("a %s field takes %s", typ, what) }
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text":
		if !isStr {
			return want("strings")
		}
	case "long", "integer", "short", "byte", "unsigned_long":
		if !isNum {
			return want("integers")
		}
		i, ok := new(big.Int).SetString(n.String(), 10)
		lo, hi := minLong, maxLong
		if typ == "unsigned_long" {
			lo, hi = big.NewInt(0), maxULng
		}
		if !ok || i.Cmp(lo) < 0 || i.Cmp(hi) > 0 {
			return want("integers in its range")
		}
	case "double", "float", "half_float", "scaled_float":
		if !isNum {
			return want("numbers")
		}
	case "boolean":
		if !isBool {
			return want("true or false")
		}
	case "date", "date_nanos":
		if !isStr {
			return want("dates as strings (the format pipelog writes)")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return want("RFC 3339 dates")
		}
	case "ip":
		if _, err := netip.ParseAddr(s); !isStr || err != nil {
			return want("IP addresses")
		}
	case "binary":
		if _, err := base64.StdEncoding.DecodeString(s); !isStr || err != nil {
			return want("base64 strings")
		}
	case "flattened", "nested":
		if !isObj {
			return want("objects")
		}
	case "object":
		if !isObj {
			return want("objects")
		}
	case "geo_point":
		if !isObj && !isStr {
			return want("{lat, lon} objects or strings")
		}
	}
	return ""
}
