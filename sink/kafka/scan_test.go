package kafka

import (
	"testing"

	"github.com/pipelog/pipelog/sink"
)

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		key, line          string
		trace, span, c, kv string
	}{
		{"event.id", `{"trace":{"id":"t1"},"span":{"id":"s1"},"event":{"action":"A","id":"e1"}}`, `"t1"`, `"s1"`, ``, `"e1"`},
		{"event.id", `{"trace.id":"t2","labels":{"x":"y","correlation_id":"c2"},"event.id":"e2"}`, `"t2"`, ``, `"c2"`, `"e2"`},
		{"trace.id", `{"trace":{"id":"t3"}}`, `"t3"`, ``, ``, `"t3"`},
		{"a.b", ` { "a" : { "s" : "x\"}{" , "b" : 12 } , "trace" : { "id" : "t4" } } `, `"t4"`, ``, ``, `12`},
		{"a.b", `{"a":[{"b":1}],"x":{"trace":{"id":"nested"}},"trace":{"id":"t5"}}`, `"t5"`, ``, ``, ``},
		{"k", `{"k":{"deep":[1,{"z":"]"}]},"span":{"id":"s6"}}`, ``, `"s6"`, ``, `{"deep":[1,{"z":"]"}]}`},
		{"k", `{"k":"a\\","span":{"id":"s7"}}`, ``, `"s7"`, ``, `"a\\"`},
		{"k", `not json`, ``, ``, ``, ``},
		{"k", `{"k":`, ``, ``, ``, ``},
	} {
		fs := newFieldSet(tc.key)
		var f found
		find([]byte(tc.line), &fs, &f)
		if string(f[fTraceID]) != tc.trace || string(f[fSpanID]) != tc.span || string(f[fCorrelation]) != tc.c || string(f[fKey]) != tc.kv {
			t.Errorf("%s in %s: trace %s span %s corr %s key %s", tc.key, tc.line, f[fTraceID], f[fSpanID], f[fCorrelation], f[fKey])
		}
	}
}

func TestKeyBytes(t *testing.T) {
	for raw, want := range map[string]string{`"abc"`: "abc", `"a\u0062"`: "ab", `12`: "12", `true`: "true", `null`: "", ``: ""} {
		if got := string(keyBytes([]byte(raw))); got != want {
			t.Errorf("keyBytes(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestFillAllocs(t *testing.T) {
	line := []byte(`{"@timestamp":"2026-12-02T00:55:11.252372Z","log.level":"info","message":"m","event":{"id":"d9a42e5674725dc6ee22905e00000001"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"span":{"id":"00f067aa0ba902b7"}}`)
	fs := newFieldSet("event.id")
	r := new(rec)
	var ti traceInfo
	ti.scan(line, nil, &fs)
	r.fill(line, &ti)
	if n := testing.AllocsPerRun(100, func() { ti.scan(line, nil, &fs); r.fill(line, &ti) }); n != 0 {
		t.Errorf("fill of a reused record allocates %v times", n)
	}
	if string(r.r.Key) != "d9a42e5674725dc6ee22905e00000001" || len(r.r.Headers) != 2 ||
		string(r.r.Headers[0].Value) != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" ||
		string(r.r.Headers[1].Value) != "4bf92f3577b34da6a3ce929d0e0e4736" || string(r.r.Value) != string(line) {
		t.Errorf("record %q %q %q", r.r.Key, r.r.Value, r.r.Headers)
	}
}

// BenchmarkFill is the sink's own work on one warm line a Logger wrote:
// the key and headers from the entry (Traced) or from reading the line,
// and the copy into a reused record.
func BenchmarkFill(b *testing.B) {
	line := []byte(`{"@timestamp":"2026-12-02T00:55:11.252372Z","log.level":"info","message":"row loaded","ecs.version":"9.4.0","service":{"name":"bench"},"event":{"action":"RowLoaded","kind":"event","id":"d9a42e5674725dc6ee22905e00000001","dataset":"bench"},"host":{"hostname":"vm"},"process":{"pid":10670},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"span":{"id":"00f067aa0ba902b7"},"Pipelog":{"RowLoaded":{"seq":1,"tenant":"acme"}}}`)
	e := sink.Entry{Line: line, ID: []byte("d9a42e5674725dc6ee22905e00000001"), Traced: true,
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"}
	fs := newFieldSet("event.id")
	r := new(rec)
	b.Run("entry", func(b *testing.B) {
		for b.Loop() {
			var ti traceInfo
			ti.ofEntry(&e, true, &fs)
			r.fill(line, &ti)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			var ti traceInfo
			ti.scan(line, e.ID, &fs)
			r.fill(line, &ti)
		}
	})
}
