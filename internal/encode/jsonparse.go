package encode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Parsing a MarshalJSON method's output for the generic value encoder, which
// writes it again by its own rules.

// parseJSON parses b, keeping objects' members in order (and repeated
// keys): objects are jsonObject, arrays []any, numbers json.Number, and
// null is nil. Strings' invalid UTF-8 becomes U+FFFD, as encoding/json
// decodes it.
func parseJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := parseValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, fmt.Errorf("more than one value")
	}
	return v, nil
}

func parseValue(d *json.Decoder, depth int) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth > 10_000 {
			return nil, fmt.Errorf("nested more than 10000 levels")
		}
		switch t {
		case '{':
			obj := jsonObject{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := parseValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				rv := reflect.Value{}
				if v != nil {
					rv = reflect.ValueOf(v)
				}
				obj = append(obj, member{key: kt.(string), v: rv})
			}
			_, err := d.Token()
			return obj, err
		case '[':
			arr := []any{}
			for d.More() {
				v, err := parseValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := d.Token()
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil // string, bool, json.Number, nil
}
