package elasticsearch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestExtractEventID(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"event":{"id":"abc"}}`, "abc"},
		{`{"@timestamp":"x","event":{"dataset":"d","id":"a\"b"},"message":"m"}`, `a\"b`},
		{`{"message":"{\"event\":{\"id\":\"fake\"}}","event":{"id":"real"}}`, "real"},
		{`{"event.id":"dotted"}`, "dotted"},
		{`{"labels":{"event":{"id":"nested"}}}`, ""},
		{`{"event":{"kind":"x"}}`, ""},
		{`{"event":{"id":42}}`, ""},
		{`{"event":{"id":""}}`, ""},
		{`{"event":"str","x":1}`, ""},
		{`{"a":[1,{"b":"}"}],"event":{"x":[{"id":"no"}],"id":"yes"}}`, "yes"},
		{` { "event" : { "id" : "spaced" } } `, "spaced"},
	}
	for _, tc := range tests {
		id, reason := scanLine([]byte(tc.doc))
		assert.Empty(t, reason, tc.doc)
		assert.Equal(t, tc.want, string(id), tc.doc)
	}
}

var scanLineCorpus = []string{
	`{}`, ` {} `, `{"a":1}`, `{"a":-0.5e+10,"b":[1,2,{"c":null}],"d":true,"e":false}`,
	`{"a":"\u00e9\n\t\"\\\/"}`, `{"a":"é日本"}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`,
	`{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}",
	`{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{}}}`, `{"a":1}{}`, `{"a":1`, `{"a`,
	`[]`, `"s"`, `1`, ``, ` `, `{"a":"b"} x`, "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\xa9\"}",
	"{\"a\":\n1}", "{\"a\":1}\n", `{"a":[[[[[[]]]]]]}`, `{"a":[{"b":[{"c":"]}"}]}]}`, `{"a":1E-2}`, `{"a":-0}`, `{"a":- 1}`,
	`{"a":"\uD834\uDD1E"}`, `{"":""}`, "{\"a\":\"b\"}\r", `{"event":{"id":"x"},"event.id":"y"}`,
}

func TestScanLineMatchesJSONValid(t *testing.T) {
	for _, c := range scanLineCorpus {
		_, reason := scanLine([]byte(c))
		trimmed := strings.TrimSpace(c)
		want := json.Valid([]byte(c)) && utf8.ValidString(c) && strings.HasPrefix(trimmed, "{") && !strings.Contains(c, "\n")
		assert.Equal(t, want, reason == "", "%q: %s", c, reason)
	}
}

func FuzzScanLine(f *testing.F) {
	for _, c := range scanLineCorpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, reason := scanLine(b)
		trimmed := bytes.TrimSpace(b)
		// scanLine is json.Valid plus: an object, one line, valid UTF-8
		want := json.Valid(b) && utf8.Valid(b) && bytes.HasPrefix(trimmed, []byte("{")) && bytes.IndexByte(b, '\n') < 0
		if want != (reason == "") {
			t.Fatalf("%q: scanLine=%q json.Valid-based=%v", b, reason, want)
		}
		// The previous recursive scanner agrees on event.id wherever it
		// accepts the line (it refused deep nesting json.Valid allows).
		if refID, refReason := refScanLine(b); refReason == "" {
			if id, _ := scanLine(b); reason != "" || !bytes.Equal(id, refID) {
				t.Fatalf("%q: scanLine id=%q reason=%q, previous scanner id=%q", b, id, reason, refID)
			}
		}
	})
}

func TestScanLineDepthMatchesJSONValid(t *testing.T) {
	for _, depth := range []int{63, 64, 65, 127, 128, 129, 500, 9999, 10000, 10001, 20000} {
		for _, open := range []string{"[", `{"a":`} {
			var b strings.Builder
			b.WriteString(`{"x":`)
			for range depth - 1 {
				b.WriteString(open)
			}
			b.WriteString("1")
			for range depth - 1 {
				if open == "[" {
					b.WriteString("]")
				} else {
					b.WriteString("}")
				}
			}
			b.WriteString("}")
			doc := []byte(b.String())
			_, reason := scanLine(doc)
			assert.Equal(t, json.Valid(doc), reason == "", "depth %d %s: %s", depth, open, reason)
		}
	}
	// mixed arrays and objects across a 64-level word boundary
	doc := []byte(`{"a":` + strings.Repeat(`[{"b":`, 70) + `[1,{"c":[]}]` + strings.Repeat(`}]`, 70) + `,"event":{"id":"deep-ok"}}`)
	id, reason := scanLine(doc)
	assert.Empty(t, reason)
	assert.Equal(t, "deep-ok", string(id))
}

// BenchmarkScanLine reports cpu-ns/op (getrusage: user + system time of the
// process) besides the wall-clock ns/op, which a loaded machine inflates.
// Each validator is called directly (not through a func value), as the
// sink calls scanLine.
func BenchmarkScanLine(b *testing.B) {
	doc := testDoc("bench", 42)
	doc = doc[:len(doc)-1]
	measure := func(b *testing.B) func() {
		b.SetBytes(int64(len(doc)))
		c0 := cpuTime()
		return func() { b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op") }
	}
	b.Run("scanLine", func(b *testing.B) {
		defer measure(b)()
		for range b.N {
			if _, r := scanLine(doc); r != "" {
				b.Fatal(r)
			}
		}
	})
	b.Run("previous", func(b *testing.B) {
		defer measure(b)()
		for range b.N {
			if _, r := refScanLine(doc); r != "" {
				b.Fatal(r)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		defer measure(b)()
		for range b.N {
			if !json.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
}

// TestShortStringAgrees checks the inlined fast path against scanJSONString
// for every byte value at every position of short strings: it must either
// decline (-1) or return exactly what the full scanner returns.
func TestShortStringAgrees(t *testing.T) {
	for n := 0; n <= 10; n++ {
		for p := 0; p < max(n, 1); p++ {
			for c := range 256 {
				s := []byte(`"` + strings.Repeat("a", n) + `","b":1}     `)
				if n > 0 {
					s[1+p] = byte(c)
				}
				fast := shortString(s, 0)
				if fast < 0 {
					continue
				}
				end, msg := scanJSONString(s, 0)
				if msg != "" || end != fast {
					t.Fatalf("%q: shortString=%d, scanJSONString=%d %q", s, fast, end, msg)
				}
			}
		}
	}
	// too close to the end: declines
	assert.Equal(t, -1, shortString([]byte(`"abc"`), 0))
}

// TestScanJSONStringBytePairs puts every pair of byte values at every
// position of the first 8-byte word (and across into the next) of a string
// and compares scanLine with json.Valid + utf8.Valid: a wrong SWAR mark (a
// borrow from 0x80..0x9f, say) would refuse valid text or accept a control
// byte.
func TestScanJSONStringBytePairs(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	const s0 = 6 // first byte of the string's contents
	for _, doc := range [][]byte{[]byte(`{"a":"abcdefghijklmnop","b":1}`), []byte(`{"a":"                ","b":1}`)} {
		for p := s0; p < s0+9; p++ {
			for c1 := range 256 {
				for c2 := range 256 {
					d := bytes.Clone(doc)
					d[p], d[p+1] = byte(c1), byte(c2)
					_, reason := scanLine(d)
					want := json.Valid(d) && utf8.Valid(d) && bytes.IndexByte(d, '\n') < 0
					if want != (reason == "") {
						t.Fatalf("%q: scanLine=%q json.Valid-based=%v", d, reason, want)
					}
				}
			}
		}
	}
}
