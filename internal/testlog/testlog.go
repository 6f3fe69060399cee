// Package testlog holds the helpers this module's tests share: a Logger
// writing to memory with a fixed clock, decoding and checking its lines,
// and the allocation-test guard.
package testlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/fuzzval"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/sink"
)

// Clock is the Logger's clock in adapter tests: a time no slog record or
// zap entry carries, so a line stamped with it is a line whose record had
// no time.
var Clock = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// Logger returns a Logger writing to a memory sink, with host "host-1",
// service "orders-etl" unless cfg names one, the Clock unless cfg has one,
// and an OnError that collects errors (read them with the returned func).
func Logger(t testing.TB, cfg pipelog.Config) (*pipelog.Logger, *memsink.Sink, func() []error) {
	t.Helper()
	mem := &memsink.Sink{}
	if cfg.Service == "" {
		cfg.Service = "orders-etl"
	}
	cfg.Sinks = []sink.Sink{mem}
	cfg.Hostname = "host-1"
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return Clock }
	}
	var mu sync.Mutex
	var errs []error
	cfg.OnError = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
	log, err := pipelog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return log, mem, func() []error { mu.Lock(); defer mu.Unlock(); return append([]error(nil), errs...) }
}

// Lines checks every line against the ecs-logging spec (duplicate keys
// included) and decodes them, numbers as json.Number.
func Lines(t testing.TB, mem *memsink.Sink) []map[string]any {
	t.Helper()
	conformance.RequireConformant(t, mem.Bytes())
	var out []map[string]any
	for _, l := range mem.Lines() {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(l))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, m)
	}
	return out
}

// At returns the value at a dotted path (see conformance.Line.Get).
func At(m map[string]any, path string) any { return conformance.Line(m).Get(path) }

// WantAt reports an error unless the value at path prints as want.
func WantAt(t *testing.T, m map[string]any, path string, want any) {
	t.Helper()
	got := At(m, path)
	if n, ok := got.(json.Number); ok {
		got = n.String()
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || got == nil && want != nil {
		t.Errorf("%s = %#v, want %#v", path, got, want)
	}
}

// WantAbsent reports an error if there is a value at path.
func WantAbsent(t *testing.T, m map[string]any, path string) {
	t.Helper()
	if v := At(m, path); v != nil {
		t.Errorf("%s = %#v, want no such field", path, v)
	}
}

// FuzzCheck fails t unless mem holds want lines, each one line of valid
// JSON within bound bytes that passes the conformance checker.
func FuzzCheck(t testing.TB, mem *memsink.Sink, want, bound int) {
	t.Helper()
	lines := mem.Lines()
	if len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	for _, line := range lines {
		if bytes.Count(line, []byte("\n")) != 1 || !json.Valid(line) {
			t.Fatalf("not one valid JSON line: %q", line)
		}
		if len(line) > bound {
			t.Fatalf("line of %d bytes over the bound of %d", len(line), bound)
		}
		if err := conformance.Check(line); err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
	}
}

// Notes is the line's Pipelog.encode_errors, printed ("<nil>" for none).
func Notes(m map[string]any) string { return fmt.Sprint(At(m, "Pipelog.encode_errors")) }

// ValueRules is a value that shows whether an adapter writes values of
// kind any the way typed events' any fields are written (item 8 of issue
// 11), and deep, a list nested past encode.MaxValueDepth. Log both, as
// "v" and "deep", and check the line with WantValueRules.
func ValueRules() (v map[string]any, deep any) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	var list *fuzzval.Node
	for i := range 1000 {
		list = &fuzzval.Node{Next: list, Name: fmt.Sprint(i)}
	}
	return map[string]any{"t": ts, "zero": time.Time{}, "html": "<a>&", "a.b": 1, "": 2, "s": []any{ts, "<b>"}}, list
}

// WantValueRules checks the line (raw and decoded) that logged ValueRules'
// values under Pipelog.Attrs: times in UTC with µs, zero times left out, no
// HTML escaping, the key rule, the depth limit with a note.
func WantValueRules(t *testing.T, raw []byte, m map[string]any) {
	t.Helper()
	for _, bad := range []string{`\u003c`, `0001-01-01`} {
		if bytes.Contains(raw, []byte(bad)) {
			t.Errorf("line has %s: %s", bad, raw)
		}
	}
	const ts = "2024-05-06T06:08:09.123456Z"
	WantAt(t, m, "Pipelog.Attrs.v.t", ts)
	WantAbsent(t, m, "Pipelog.Attrs.v.zero")
	WantAt(t, m, "Pipelog.Attrs.v.html", "<a>&")
	WantAt(t, m, "Pipelog.Attrs.v.a.b", "1")
	WantAt(t, m, "Pipelog.Attrs.v._", "2")
	WantAt(t, m, "Pipelog.Attrs.v.s", []any{ts, "<b>"})
	WantAt(t, m, "Pipelog.Attrs.deep.name", "999")
	if !strings.Contains(Notes(m), "MaxValueDepth") {
		t.Errorf("encode_errors = %s, want the depth limit noted", Notes(m))
	}
}

// RaceEnabled reports whether the test binary was built with -race.
func RaceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return true
			}
		}
	}
	return false
}

// SkipUnderRace skips an allocation test in a -race build, where the race
// detector allocates and sync.Pool drops items at random. make test runs
// every allocation test (named *Alloc*) again without -race, so the skip
// hides nothing.
func SkipUnderRace(t testing.TB) {
	t.Helper()
	if RaceEnabled() {
		t.Skip("allocation counts are meaningless under -race; make test runs this test without it")
	}
}

// Discard is an io.Writer that keeps nothing, as a sink's destination in
// allocation tests and benchmarks.
type Discard struct{}

func (Discard) Write(p []byte) (int, error) { return len(p), nil }

// Stable is an io.Writer for examples' output: it removes event.id (random
// per Logger) and process.pid from each line, so printed lines are the same
// on every run. Real lines keep both.
type Stable struct{ W io.Writer }

// StableNoTime also removes @timestamp: slog and zap stamp their records
// with time.Now, which an example's output cannot show.
type StableNoTime struct{ W io.Writer }

var (
	recordTime = regexp.MustCompile(`"@timestamp":"[^"]*",`)
	unstable   = regexp.MustCompile(`,"id":"[0-9a-f]{32}"|,"process":\{"pid":\d+\}`)
)

func (s StableNoTime) Write(p []byte) (int, error) {
	_, err := Stable{s.W}.Write(recordTime.ReplaceAll(p, nil))
	return len(p), err
}

func (s Stable) Write(p []byte) (int, error) {
	_, err := s.W.Write(unstable.ReplaceAll(p, nil))
	return len(p), err
}
