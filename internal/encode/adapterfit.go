package encode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

// An adapter's value is checked against its ECS field's type once it is
// encoded: the shape (Placement) says a string may go on an ip field, the
// value says whether this string is an address. What a typed event's Go
// type guarantees when the type is first seen (an int8 on a byte field) an
// adapter's value must show on every line.

// intBits is the bit size of an ECS signed integer type, else 0.
func intBits(typ string) int {
	switch typ {
	case "long":
		return 64
	case "integer":
		return 32
	case "short":
		return 16
	case "byte":
		return 8
	}
	return 0
}

// hasValueRule reports whether values of ECS type typ are checked beyond
// their JSON shape (addresses, integer ranges, geo points).
func hasValueRule(typ string) bool {
	return typ == "ip" || intBits(typ) > 0 || typ == "unsigned_long" || typ == "geo_point"
}

// fitsOne reports whether the encoded value v (of the given shape, which
// Placement accepted for f) is a valid value of f's ECS type. When it is
// not, why says what is wrong, for the note.
func fitsOne(f ecsFieldEntry, shape string, v []byte) (why string, ok bool) {
	switch {
	case shape == ShapeNull || len(v) == 0:
		return "", true
	case !hasValueRule(f.typ) && f.objectType == "":
		return "", true // the common case: the shape says all (keyword, text, boolean, date, float)
	case len(shape) > len("array:") && shape[:len("array:")] == "array:":
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil {
			return "is not a JSON array", false
		}
		for _, el := range elems {
			if why, ok := fitsValue(f, el); !ok {
				return why, false
			}
		}
		return "", true
	}
	return fitsValue(f, v)
}

func fitsValue(f ecsFieldEntry, v []byte) (string, bool) {
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return "", true
	}
	switch {
	case f.typ == "ip":
		s, ok := jsonString(v)
		if !ok || !isAddr(s) {
			return fmt.Sprintf("%.64s is not an IP address", v), false
		}
	case intBits(f.typ) > 0:
		if _, err := strconv.ParseInt(bytesString(v), 10, intBits(f.typ)); err != nil {
			return fmt.Sprintf("%.64s is not a %d-bit integer (ECS %s)", v, intBits(f.typ), f.typ), false
		}
	case f.typ == "unsigned_long":
		if _, err := strconv.ParseUint(bytesString(v), 10, 64); err != nil {
			return fmt.Sprintf("%.64s is not an unsigned 64-bit integer (ECS unsigned_long)", v), false
		}
	case f.typ == "geo_point":
		if !geoPoint(v) {
			return fmt.Sprintf(`%.64s is not a geo_point (a non-empty string or {"lat":…,"lon":…})`, v), false
		}
	case f.objectType != "" && v[0] == '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return "is not a JSON object", false
		}
		for k, x := range m {
			if x[0] != '"' && !bytes.Equal(x, []byte("null")) {
				return fmt.Sprintf("member %q is not a string (ECS object_type %s)", k, f.objectType), false
			}
		}
	}
	return "", true
}

// jsonString decodes the JSON string v, without allocating when it holds
// no escapes (an address never does).
func jsonString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return bytesString(v[1 : len(v)-1]), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

func geoPoint(v []byte) bool {
	if v[0] == '"' {
		return len(v) > 2
	}
	var p map[string]json.RawMessage
	if v[0] != '{' || json.Unmarshal(v, &p) != nil || len(p) != 2 {
		return false
	}
	for k, limit := range map[string]float64{"lat": 90, "lon": 180} {
		x, err := strconv.ParseFloat(string(p[k]), 64)
		if err != nil || math.Abs(x) > limit {
			return false
		}
	}
	return true
}

// bytesString views b as a string for a call that does not keep it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
