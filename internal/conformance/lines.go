package conformance

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Line is one decoded NDJSON line, for assertions in tests.
type Line map[string]any

// Get returns the value at a dotted path: a top-level key that is itself
// dotted ("log.level") first, then nested objects ("event.action"). A
// missing path is nil.
func (l Line) Get(path string) any {
	if v, ok := l[path]; ok {
		return v
	}
	var cur any = map[string]any(l)
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = obj[p]; !ok {
			return nil
		}
	}
	return cur
}

// Lines checks every line of ndjson against the spec (RequireConformant)
// and returns them decoded.
func Lines(t testing.TB, ndjson []byte) []Line {
	t.Helper()
	RequireConformant(t, ndjson)
	var out []Line
	for _, raw := range bytes.SplitAfter(ndjson, []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		var l Line
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
		out = append(out, l)
	}
	return out
}
