package benchmarks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.elastic.co/ecszap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/pipelogzap"
	"github.com/pipelog/pipelog/sink"
)

// The side-by-side tests run the same zap calls through go.elastic.co/ecszap
// v1.0.3 and through pipelog's core, and assert on the bytes each writes.
// Each test pins one difference; if ecszap fixes one, its half fails and
// the adapters section of BENCHMARKS.md must change.

// cmpBuf is a concurrency-safe line collector for both sides.
type cmpBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *cmpBuf) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}
func (c *cmpBuf) Sync() error { return nil }
func (c *cmpBuf) lines() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]byte
	for l := range bytes.Lines(c.b.Bytes()) {
		out = append(out, bytes.Clone(l))
	}
	return out
}

var cmpTime = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func ecszapCore(w *cmpBuf) zapcore.Core {
	return ecszap.NewCore(ecszap.NewDefaultEncoderConfig(), w, zapcore.DebugLevel)
}

func pipelogCore(t *testing.T, w *cmpBuf) zapcore.Core {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Hostname: "h", Level: -128,
		Now: func() time.Time { return cmpTime }, Sinks: []sink.Sink{sink.NewWriter(w, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	return pipelogzap.NewCore(log)
}

// plainJSONCore is a stock zap JSON core, standing in for any second core
// (apmzap's, a tee to another destination) that sees the same fields.
func plainJSONCore(w *cmpBuf) zapcore.Core {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = ""
	return zapcore.NewCore(zapcore.NewJSONEncoder(cfg), w, zapcore.DebugLevel)
}

// duplicateKeys lists every key that appears twice in one object of line,
// as "path.key", reading the line token by token (a map decoder would keep
// one of them silently).
func duplicateKeys(t *testing.T, line []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(line))
	var dups []string
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				p := strings.TrimPrefix(path+"."+k, ".")
				if seen[k] {
					dups = append(dups, p)
				}
				seen[k] = true
				if err := walk(p); err != nil {
					return err
				}
			}
			_, err = d.Token()
			return err
		case json.Delim('['):
			for d.More() {
				if err := walk(path + "[]"); err != nil {
					return err
				}
			}
			_, err = d.Token()
			return err
		}
		return nil
	}
	if err := walk(""); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return dups
}

// topLevelKeys lists the top-level keys of line in order.
func topLevelKeys(t *testing.T, line []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(line))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func decodeLine(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return m
}

func get(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, p := range path {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = o[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// 1. ecszap rewrites error fields inside the caller's slice (and may append
// ecs.version into its spare capacity). A second core that sees the same
// fields, apmzap's or any tee, then gets ecszap's object instead of the
// error: the bytes it writes change.
func TestCompareFieldSliceMutation(t *testing.T) {
	err := errors.New("boom")
	run := func(first zapcore.Core) (fields, before []zapcore.Field, second []byte) {
		var w cmpBuf
		fields = make([]zapcore.Field, 2, 4)
		fields[0], fields[1] = zap.Error(err), zap.String("k", "v")
		before = slices.Clone(fields[:cap(fields)])
		core := zapcore.NewTee(first, plainJSONCore(&w))
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: cmpTime, Message: "m"}
		if ce := core.Check(ent, nil); ce != nil {
			ce.Write(fields...)
		}
		return fields, before, w.lines()[0]
	}

	var sink1 cmpBuf
	fields, before, second := run(ecszapCore(&sink1))
	if fields[0].Type != zapcore.ObjectMarshalerType {
		t.Errorf("ecszap: the caller's error field was not rewritten (type %v); has ecszap changed?", fields[0].Type)
	}
	if !bytes.Contains(second, []byte(`"error":{"message":"boom"}`)) {
		t.Errorf("ecszap: the second core did not see ecszap's rewritten field: %s", second)
	}
	if slices.EqualFunc(before, fields[:cap(fields)], fieldsEqual) {
		t.Error("ecszap: no change to the caller's slice")
	}

	var sink2 cmpBuf
	fields, before, second = run(pipelogCore(t, &sink2))
	if !slices.EqualFunc(before, fields[:cap(fields)], fieldsEqual) {
		t.Errorf("pipelog changed the caller's fields:\n%+v\n%+v", before, fields[:cap(fields)])
	}
	if !bytes.Contains(second, []byte(`"error":"boom"`)) {
		t.Errorf("pipelog: the second core did not get the original error field: %s", second)
	}
	m := decodeLine(t, sink2.lines()[0])
	if v, _ := get(m, "error", "message"); v != "boom" {
		t.Errorf("pipelog: error.message = %v", v)
	}
}

func fieldsEqual(a, b zapcore.Field) bool {
	return a.Key == b.Key && a.Type == b.Type && a.Integer == b.Integer && a.String == b.String && a.Interface == b.Interface
}

// 2. After zap.Namespace, ecszap's ecs.version (appended as the last field)
// lands inside the namespace; the line then has no top-level ecs.version,
// which the ecs-logging spec requires. pipelog writes it top-level, 4th,
// whatever namespaces the fields open.
func TestCompareNamespaceECSVersion(t *testing.T) {
	call := func(core zapcore.Core) {
		zap.New(core).With(zap.Namespace("request")).Info("m", zap.String("id", "r1"))
	}
	var a, b cmpBuf
	call(ecszapCore(&a))
	call(pipelogCore(t, &b))
	t.Logf("ecszap:\n%s\npipelog:\n%s", a.lines(), b.lines())

	ez := a.lines()[0]
	m := decodeLine(t, ez)
	if _, ok := m["ecs.version"]; ok {
		t.Errorf("ecszap: top-level ecs.version present: %s", ez)
	}
	if v, _ := get(m, "request", "ecs.version"); v != "1.6.0" {
		t.Errorf("ecszap: request.ecs.version = %v: %s", v, ez)
	}

	pl := b.lines()[0]
	m = decodeLine(t, pl)
	if m["ecs.version"] != "9.4.0" {
		t.Errorf("pipelog: ecs.version = %v", m["ecs.version"])
	}
	if keys := topLevelKeys(t, pl); keys[3] != "ecs.version" {
		t.Errorf("pipelog: top-level keys %v", keys)
	}
	if v, _ := get(m, "Pipelog", "Attrs", "request"); fmt.Sprint(v) != "map[id:r1]" {
		t.Errorf("pipelog: Pipelog.Attrs.request = %v", v)
	}
}

// 3. ecszap writes every error field under the key "error" and a user field
// "message" next to the entry's message: duplicate keys, which
// Elasticsearch rejects (or, leniently parsed, silently keeps one of).
// pipelog: zap.Error is error.*, NamedError and "message" go under
// Pipelog.Attrs, no key twice.
func TestCompareDuplicateKeys(t *testing.T) {
	call := func(core zapcore.Core) {
		zap.New(core).Error("entry message",
			zap.Error(errors.New("first")), zap.NamedError("cause", errors.New("second")),
			zap.String("message", "user field"))
	}
	var a, b cmpBuf
	call(ecszapCore(&a))
	call(pipelogCore(t, &b))
	t.Logf("ecszap:\n%s\npipelog:\n%s", a.lines(), b.lines())

	ez := a.lines()[0]
	dups := duplicateKeys(t, ez)
	if !slices.Contains(dups, "error") || !slices.Contains(dups, "message") {
		t.Errorf("ecszap: duplicates %v, want error and message: %s", dups, ez)
	}

	pl := b.lines()[0]
	if dups := duplicateKeys(t, pl); len(dups) > 0 {
		t.Errorf("pipelog: duplicate keys %v: %s", dups, pl)
	}
	m := decodeLine(t, pl)
	for path, want := range map[string]string{
		"message": "entry message", "error.message": "first",
		"Pipelog.Attrs.cause": "second", "Pipelog.Attrs.message": "user field",
	} {
		if v, _ := get(m, strings.Split(path, ".")...); path == "message" {
			if m["message"] != want {
				t.Errorf("pipelog: message = %v", m["message"])
			}
		} else if v != want {
			t.Errorf("pipelog: %s = %v, want %q", path, v, want)
		}
	}
}

type quotaError struct{ tenant string }

func (e *quotaError) Error() string { return "quota exceeded for " + e.tenant }

// 4. error.type: ecszap writes none. pipelog names the first type in the
// chain that is not a %w or errors.Join wrapper, which is what a search on
// error.type wants ("*benchmarks.quotaError", not "*fmt.wrapError").
func TestCompareErrorChains(t *testing.T) {
	wrapped := fmt.Errorf("submit: %w", fmt.Errorf("reserve: %w", &quotaError{"acme"}))
	joined := errors.Join(fmt.Errorf("read: %w", fs.ErrPermission), &quotaError{"b"})
	call := func(core zapcore.Core) {
		l := zap.New(core)
		l.Error("m", zap.Error(wrapped))
		l.Error("m", zap.Error(joined))
	}
	var a, b cmpBuf
	call(ecszapCore(&a))
	call(pipelogCore(t, &b))
	t.Logf("ecszap:\n%s\npipelog:\n%s", a.lines(), b.lines())

	for i, line := range a.lines() {
		m := decodeLine(t, line)
		if _, ok := get(m, "error", "type"); ok {
			t.Errorf("ecszap line %d has error.type: %s", i, line)
		}
		if _, ok := get(m, "error", "message"); !ok {
			t.Errorf("ecszap line %d: no error.message: %s", i, line)
		}
	}
	wantType := []string{"*benchmarks.quotaError", "*errors.errorString"}
	wantMsg := []string{"submit: reserve: quota exceeded for acme", "read: permission denied\nquota exceeded for b"}
	for i, line := range b.lines() {
		m := decodeLine(t, line)
		if v, _ := get(m, "error", "type"); v != wantType[i] {
			t.Errorf("pipelog line %d: error.type = %v, want %s", i, v, wantType[i])
		}
		if v, _ := get(m, "error", "message"); v != wantMsg[i] {
			t.Errorf("pipelog line %d: error.message = %q", i, v)
		}
	}
}

// 5. ecs.version: ecszap writes ECS 1.6.0, as the last key; the
// ecs-logging spec puts ecs.version among the first keys (@timestamp,
// log.level, message, ecs.version), and pipelog checks its fields against
// ECS 9.4.0 and writes that version 4th.
func TestCompareECSVersionPosition(t *testing.T) {
	call := func(core zapcore.Core) {
		zap.New(core).Info("m", zap.String("k", "v"), zap.Int("n", 1))
	}
	var a, b cmpBuf
	call(ecszapCore(&a))
	call(pipelogCore(t, &b))
	t.Logf("ecszap:\n%s\npipelog:\n%s", a.lines(), b.lines())

	ez := topLevelKeys(t, a.lines()[0])
	if ez[len(ez)-1] != "ecs.version" {
		t.Errorf("ecszap keys %v: ecs.version not last", ez)
	}
	if m := decodeLine(t, a.lines()[0]); m["ecs.version"] != "1.6.0" {
		t.Errorf("ecszap ecs.version = %v", m["ecs.version"])
	}
	pl := topLevelKeys(t, b.lines()[0])
	if want := []string{"@timestamp", "log.level", "message", "ecs.version"}; !slices.Equal(pl[:4], want) {
		t.Errorf("pipelog keys %v, want %v first", pl, want)
	}
	if m := decodeLine(t, b.lines()[0]); m["ecs.version"] != "9.4.0" {
		t.Errorf("pipelog ecs.version = %v", m["ecs.version"])
	}
}
