// Package conformance checks NDJSON log lines against the ecs-logging spec
// and the ECS field set, as an independent oracle for pipelog's encoder.
//
// The spec files are read once from the repository's ecs/testdata directory:
// ecs_flat.yml (ECS field types), ecs-logging-spec.json (field order,
// required and top-level fields, label-key sanitisation) and
// composable/template.json (ECS version).
//
// This file is long (about 680 lines) on purpose: it is one checker, one
// pass over a decoded line with the rule it enforces next to each check, so
// that it can be read against the spec from top to bottom; split, the
// rules would hide behind the plumbing between files.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// Violation is one rule a line breaks. Field is the flat dotted path of the
// offending field ("host.ip[1]" for an array element), or "" for rules about
// the whole line.
type Violation struct {
	Field string
	Msg   string
}

func (v *Violation) Error() string {
	if v.Field == "" {
		return v.Msg
	}
	return v.Field + ": " + v.Msg
}

// Check validates one NDJSON line, including its terminating '\n'. It
// returns nil if the line conforms, else the violations joined with
// errors.Join (each a *Violation, retrievable with errors.As or by
// unwrapping).
func Check(line []byte) error {
	vs := check(line)
	if len(vs) == 0 {
		return nil
	}
	errs := make([]error, len(vs))
	for i, v := range vs {
		errs[i] = v
	}
	return errors.Join(errs...)
}

// CheckLines splits ndjson after each '\n' and checks every line. Errors are
// prefixed with the 1-based line number. Input not ending in '\n' yields an
// error for its last line; empty input yields one error.
func CheckLines(ndjson []byte) []error {
	if len(ndjson) == 0 {
		return []error{errors.New("no lines")}
	}
	var errs []error
	n := 0
	for line := range bytes.Lines(ndjson) {
		n++
		if err := Check(line); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w\n\t%s", n, err, quoteLine(line)))
		}
	}
	return errs
}

// RequireConformant fails t (after reporting every violation) unless each
// line of ndjson conforms.
func RequireConformant(t testing.TB, ndjson []byte) {
	t.Helper()
	errs := CheckLines(ndjson)
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
}

func quoteLine(line []byte) string {
	const max = 400
	if len(line) > max {
		return strconv.Quote(string(line[:max])) + "…"
	}
	return strconv.Quote(string(line))
}

// checker collects the violations of one line.
type checker struct {
	s  *schema
	vs []*Violation
}

func (c *checker) addf(field, format string, args ...any) {
	c.vs = append(c.vs, &Violation{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func check(line []byte) []*Violation {
	s, err := getSchema()
	if err != nil {
		return []*Violation{{Msg: err.Error()}}
	}
	c := &checker{s: s}
	root := c.parse(line)
	if root == nil {
		return c.vs
	}
	c.checkOrder(root)
	c.checkRequired(root)
	c.checkTop(root)
	return c.vs
}

// ---- framing and parsing ----

type kind uint8

const (
	kObject kind = iota
	kArray
	kString
	kNumber
	kBool
	kNull
)

func (k kind) String() string {
	return [...]string{"object", "array", "string", "number", "boolean", "null"}[k]
}

type member struct {
	key string
	val *value
}

// value is a JSON value that keeps object members in document order.
type value struct {
	kind    kind
	members []member // kObject
	elems   []*value // kArray
	str     string   // kString: the string; kNumber: the literal
	b       bool     // kBool
}

func (v *value) get(key string) (*value, bool) {
	for _, m := range v.members {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

// parse checks the framing (one JSON object, one trailing '\n', valid UTF-8)
// and builds the tree, reporting duplicate keys. It returns nil if the line
// cannot be checked further.
func (c *checker) parse(line []byte) *value {
	if len(line) == 0 {
		c.addf("", "empty line")
		return nil
	}
	if line[len(line)-1] != '\n' {
		c.addf("", "line is not terminated by '\\n'")
		return nil
	}
	body := line[:len(line)-1]
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		c.addf("", "raw newline at byte %d: an NDJSON line has exactly one '\\n', at its end", i)
		return nil
	}
	if i := bytes.IndexByte(body, '\r'); i >= 0 {
		c.addf("", "raw carriage return at byte %d: lines must end in a bare '\\n'", i)
		return nil
	}
	if !utf8.Valid(body) {
		i := 0
		for i < len(body) {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		c.addf("", "invalid UTF-8 at byte %d", i)
		return nil
	}
	if !json.Valid(body) {
		var x any
		err := json.Unmarshal(body, &x)
		c.addf("", "not a single valid JSON value: %v", err)
		return nil
	}
	if trimmed := bytes.TrimLeft(body, " \t"); len(trimmed) == 0 || trimmed[0] != '{' {
		c.addf("", "line must be a JSON object")
		return nil
	}
	c.checkSurrogates(body)

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	root, err := c.parseValue(dec, "")
	if err != nil { // cannot happen after json.Valid
		c.addf("", "decoding: %v", err)
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		c.addf("", "trailing data after the JSON object")
	}
	return root
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (c *checker) parseValue(dec *json.Decoder, path string) (*value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &value{kind: kObject}
			seen := make(map[string]bool)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key := kt.(string)
				p := joinPath(path, key)
				if seen[key] {
					c.addf(p, "duplicate key %q", key)
				}
				seen[key] = true
				child, err := c.parseValue(dec, p)
				if err != nil {
					return nil, err
				}
				v.members = append(v.members, member{key, child})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return v, nil
		case '[':
			v := &value{kind: kArray}
			for i := 0; dec.More(); i++ {
				child, err := c.parseValue(dec, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				v.elems = append(v.elems, child)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	case string:
		return &value{kind: kString, str: t}, nil
	case json.Number:
		return &value{kind: kNumber, str: string(t)}, nil
	case bool:
		return &value{kind: kBool, b: t}, nil
	case nil:
		return &value{kind: kNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %T", tok)
}

// checkSurrogates reports \u escapes that encode an unpaired UTF-16
// surrogate: syntactically valid JSON, but not a Unicode string
// (encoding/json silently turns them into U+FFFD).
func (c *checker) checkSurrogates(body []byte) {
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b == '"':
			inString = !inString
		case b == '\\' && inString:
			i++
			if body[i] != 'u' {
				continue
			}
			r := hex4(body[i+1 : i+5])
			i += 4
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				c.addf("", "unpaired low surrogate \\u%04x at byte %d", r, i-5)
			case r >= 0xD800 && r <= 0xDBFF:
				if i+6 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
					if lo := hex4(body[i+3 : i+7]); lo >= 0xDC00 && lo <= 0xDFFF {
						i += 6
						continue
					}
				}
				c.addf("", "unpaired high surrogate \\u%04x at byte %d", r, i-5)
			}
		}
	}
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 16)
	return rune(n)
}

// ---- top-level rules ----

// checkOrder: the spec's indexed fields (@timestamp, log.level, message),
// then ecs.version, must be the leading keys, in that order, as far as
// present.
func (c *checker) checkOrder(root *value) {
	var want []string
	for _, name := range c.s.order {
		if _, ok := root.get(name); ok {
			want = append(want, name)
		}
	}
	for i, name := range want {
		if i >= len(root.members) || root.members[i].key != name {
			got := ""
			if i < len(root.members) {
				got = root.members[i].key
			}
			c.addf(name, "key order: expected %q as top-level key #%d, found %q (required leading order: %s)",
				name, i+1, got, strings.Join(c.s.order, ", "))
			return
		}
	}
}

func (c *checker) checkRequired(root *value) {
	for _, name := range c.s.required {
		v, ok := root.get(name)
		switch {
		case !ok:
			c.addf(name, "required field missing (as top-level key %q)", name)
		case v.kind == kNull:
			c.addf(name, "required field is null")
		}
	}
	if v, ok := root.get("ecs.version"); ok && v.kind == kString && v.str != c.s.version {
		c.addf("ecs.version", "is %q, but the field types checked are those of ECS %s", v.str, c.s.version)
	}
	if v, ok := root.get("log.level"); ok && v.kind == kString && v.str == "" {
		c.addf("log.level", "must not be empty")
	}
}

func (c *checker) checkTop(root *value) {
	for _, m := range root.members {
		key := m.key
		switch {
		case key == "":
			c.addf("", "empty key at top level")
		case strings.Contains(key, "."):
			if !c.s.topLevel[key] {
				c.addf(key, "key contains a dot; only the spec's top-level fields (%s) are dotted, everything else must be nested objects", c.topLevelList())
				continue
			}
			c.checkPath(key, key, m.val, true)
		default:
			c.checkPath(key, key, m.val, true)
		}
	}
}

func (c *checker) topLevelList() string {
	var names []string
	for n := range c.s.topLevel {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// ---- field rules ----

// checkPath checks the value v of field, the flat dotted name (either an
// ECS field, an implicit ECS object such as "host", or a custom field).
// path is field with array indexes ("email.attachments[1].file.size"), for
// messages.
func (c *checker) checkPath(field, path string, v *value, top bool) {
	if f, ok := c.s.fields[field]; ok {
		c.checkField(field, path, f, v)
		return
	}
	if c.s.groups[field] {
		if v.kind != kObject {
			c.addf(path, "is an ECS object (parent of ECS fields) and must be a JSON object, got %s", v.kind)
			return
		}
		c.checkChildren(field, path, v)
		return
	}
	if top {
		if r, _ := utf8.DecodeRuneInString(path); !unicode.IsUpper(r) {
			c.addf(path, "unknown top-level field: not in ECS %s; custom top-level fields must start with an uppercase letter", c.s.version)
			return
		}
		c.checkFreeForm(path, v)
		return
	}
	c.addf(path, "is not an ECS field; custom fields are not allowed inside ECS objects (use a capitalised top-level key or labels)")
}

// checkChildren checks the members of an object whose sub-fields are
// defined by ECS (an implicit group, or an object/nested field with ECS
// sub-fields).
func (c *checker) checkChildren(field, path string, obj *value) {
	for _, m := range obj.members {
		f, p := joinPath(field, m.key), joinPath(path, m.key)
		switch {
		case m.key == "":
			c.addf(path, "empty key")
		case strings.Contains(m.key, "."):
			c.addf(p, "key %q contains a dot; nested fields must be written as nested objects", m.key)
		case c.s.topLevel[f]:
			c.addf(p, "must be the dotted top-level key %q, not nested", f)
		default:
			c.checkPath(f, p, m.val, false)
		}
	}
}

// checkFreeForm checks content below custom fields and free-form ECS
// fields (object without sub-fields, flattened): keys must be non-empty and
// dot-free.
func (c *checker) checkFreeForm(path string, v *value) {
	switch v.kind {
	case kObject:
		for _, m := range v.members {
			p := joinPath(path, m.key)
			switch {
			case m.key == "":
				c.addf(path, "empty key")
			case strings.Contains(m.key, "."):
				c.addf(p, "key %q contains a dot; nested fields must be written as nested objects", m.key)
			}
			c.checkFreeForm(p, m.val)
		}
	case kArray:
		for i, e := range v.elems {
			c.checkFreeForm(fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

var stringTypes = map[string]bool{
	"keyword": true, "constant_keyword": true, "wildcard": true,
	"text": true, "match_only_text": true, "version": true,
}

var intBits = map[string]int{"long": 64, "integer": 32, "short": 16, "byte": 8}

var floatTypes = map[string]bool{"float": true, "double": true, "half_float": true, "scaled_float": true}

func (c *checker) checkField(field, path string, f ecsField, v *value) {
	if v.kind == kNull {
		return // Elasticsearch indexes null as "no value"; the encoder writes it for NaN/Inf
	}
	if v.kind == kArray {
		// normalize: [array] fields, keyword fields (Elasticsearch takes
		// arrays for any field, ECS keyword fields are commonly arrays) and
		// nested fields (arrays of objects by definition).
		if !f.array && f.typ != "keyword" && f.typ != "nested" {
			c.addf(path, "ECS %s field is not an array field (no normalize: [array]), got a JSON array", f.typ)
			return
		}
		for i, e := range v.elems {
			ep := fmt.Sprintf("%s[%d]", path, i)
			switch e.kind {
			case kNull:
			case kArray:
				c.addf(ep, "nested arrays are not allowed")
			default:
				c.checkOne(ep, field, f, e)
			}
		}
		return
	}
	c.checkOne(path, field, f, v)
}

// checkOne checks a single (non-array) value of field f. path names the
// value (with an [i] suffix for array elements), field the ECS field.
func (c *checker) checkOne(path, field string, f ecsField, v *value) {
	typ := f.typ
	switch {
	case stringTypes[typ]:
		c.want(path, typ, v, kString)
	case typ == "ip":
		if c.want(path, typ, v, kString) {
			if _, err := netip.ParseAddr(v.str); err != nil {
				c.addf(path, "ECS ip field: %q is not an IPv4 or IPv6 address", v.str)
			}
		}
	case intBits[typ] > 0 || typ == "unsigned_long":
		if c.want(path, typ, v, kNumber) {
			c.checkInteger(path, typ, v.str)
		}
	case floatTypes[typ]:
		if c.want(path, typ, v, kNumber) {
			if _, err := strconv.ParseFloat(v.str, 64); err != nil {
				c.addf(path, "ECS %s field: %s is out of range", typ, v.str)
			}
		}
	case typ == "boolean":
		c.want(path, typ, v, kBool)
	case typ == "date":
		if c.want(path, typ, v, kString) {
			c.checkDate(path, field, v.str)
		}
	case typ == "geo_point":
		c.checkGeoPoint(path, v)
	case typ == "object":
		if !c.want(path, typ, v, kObject) {
			return
		}
		switch {
		case !f.leaf:
			c.checkChildren(field, path, v)
		case f.objectType != "":
			c.checkTypedObject(path, field, f.objectType, v)
		default:
			c.checkFreeForm(path, v)
		}
	case typ == "flattened":
		if c.want(path, typ, v, kObject) {
			c.checkFreeForm(path, v)
		}
	case typ == "nested":
		if !c.want(path, typ, v, kObject) {
			return
		}
		if f.leaf {
			c.checkFreeForm(path, v)
		} else {
			c.checkChildren(field, path, v)
		}
	default:
		c.addf(path, "unsupported ECS type %q in ecs_flat.yml", typ)
	}
}

// want reports whether v has JSON kind k; if not it records a violation.
func (c *checker) want(path, typ string, v *value, k kind) bool {
	if v.kind == k {
		return true
	}
	if v.kind == kObject {
		c.addf(path, "is an ECS leaf field of type %s; no path may descend below it (got a JSON object, want a JSON %s)", typ, k)
		return false
	}
	c.addf(path, "ECS type %s needs a JSON %s, got %s", typ, k, v.kind)
	return false
}

func (c *checker) checkInteger(path, typ, lit string) {
	if strings.ContainsAny(lit, ".eE") {
		c.addf(path, "ECS %s field needs an integer literal (no fraction or exponent), got %s", typ, lit)
		return
	}
	var err error
	if typ == "unsigned_long" {
		_, err = strconv.ParseUint(lit, 10, 64)
	} else {
		_, err = strconv.ParseInt(lit, 10, intBits[typ])
	}
	if err != nil {
		c.addf(path, "%s is out of range for ECS type %s", lit, typ)
	}
}

// timestampRE is the ecs-logging @timestamp format %Y-%m-%dT%H:%M:%S.%fZ:
// UTC with a 'Z' and 1 to 6 fraction digits (microseconds at most).
var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z$`)

func (c *checker) checkDate(path, field, s string) {
	if field == "@timestamp" && !timestampRE.MatchString(s) {
		c.addf(path, "%q is not in the ecs-logging format YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC 'Z', 1-6 fraction digits)", s)
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		c.addf(path, "%q is not an RFC 3339 date-time: %v", s, err)
	}
}

func (c *checker) checkGeoPoint(path string, v *value) {
	switch v.kind {
	case kString:
		if v.str == "" {
			c.addf(path, "ECS geo_point string must not be empty")
		}
		return
	case kObject:
	default:
		c.addf(path, `ECS geo_point needs {"lat":..,"lon":..} or a string, got %s`, v.kind)
		return
	}
	var seen int
	for _, m := range v.members {
		limit := 0.0
		switch m.key {
		case "lat":
			limit = 90
		case "lon":
			limit = 180
		default:
			c.addf(joinPath(path, m.key), `unexpected key in geo_point (only "lat" and "lon")`)
			continue
		}
		seen++
		p := joinPath(path, m.key)
		if m.val.kind != kNumber {
			c.addf(p, "geo_point coordinate must be a JSON number, got %s", m.val.kind)
			continue
		}
		if f, err := strconv.ParseFloat(m.val.str, 64); err != nil || math.Abs(f) > limit {
			c.addf(p, "geo_point coordinate %s out of range [-%g, %g]", m.val.str, limit, limit)
		}
	}
	if seen != 2 {
		c.addf(path, `ECS geo_point object needs both "lat" and "lon"`)
	}
}

// checkTypedObject checks a free-form object whose values all have one type
// (object_type keyword: labels, container.labels) and applies the spec's key
// sanitisation (labels: no '.', '*', '\').
func (c *checker) checkTypedObject(path, field, objectType string, v *value) {
	forbidden := c.s.sanitize[field] // labels only; container.labels has no spec entry
	for _, m := range v.members {
		p := joinPath(path, m.key)
		if m.key == "" {
			c.addf(path, "empty key")
			continue
		}
		for _, bad := range forbidden {
			if strings.Contains(m.key, bad) {
				c.addf(p, "key %q is not sanitised: the spec replaces %q in %s keys", m.key, bad, field)
			}
		}
		if len(forbidden) == 0 && strings.Contains(m.key, ".") {
			c.addf(p, "key %q contains a dot", m.key)
		}
		if m.val.kind == kNull {
			continue
		}
		if stringTypes[objectType] {
			if m.val.kind != kString {
				c.addf(p, "values of %s (object_type %s) must be JSON strings, got %s", field, objectType, m.val.kind)
			}
			continue
		}
		c.checkOne(p, p, ecsField{typ: objectType, leaf: true}, m.val)
	}
}
