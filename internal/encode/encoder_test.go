package encode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/encode"
)

var fixedTime = time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)

func newEncoder(t testing.TB, cfg encode.Config) *encode.Encoder {
	t.Helper()
	if cfg.ServiceName == "" {
		cfg.ServiceName = "orders-etl"
	}
	return encode.NewEncoder(cfg)
}

// appendEvent appends ev as pipelog.Emit does: read in place, with a heap
// copy only for the fields that need one.
func appendEvent[E event.Event](e *encode.Encoder, fx *encode.Fixed, dst []byte, rec *encode.Record, ev E) ([]byte, error) {
	ti := encode.TypeFor[E]()
	return e.AppendEvent(dst, fx, rec, ti, unsafe.Pointer(&ev), encode.Box(ti, &ev))
}

// encode appends ev and checks the line against the spec before returning
// it decoded.
func encodeLine[E event.Event](t *testing.T, e *encode.Encoder, rec encode.Record, ev E) (map[string]any, []byte) {
	t.Helper()
	return encodeLineFixed(t, e, nil, rec, ev)
}

func encodeLineFixed[E event.Event](t *testing.T, e *encode.Encoder, fx *encode.Fixed, rec encode.Record, ev E) (map[string]any, []byte) {
	t.Helper()
	if rec.Time.IsZero() {
		rec.Time = fixedTime
	}
	line, _ := appendEvent(e, fx, nil, &rec, ev)
	conformance.RequireConformant(t, line)
	var m map[string]any
	require.NoError(t, json.Unmarshal(line, &m), "%s", line)
	return m, line
}

func get(m map[string]any, path string) any { return conformance.Line(m).Get(path) }

type BadRequestReceived struct {
	event.Base
	Path   string `ecs:"url.path"`
	Tenant string
	Count  int
	Ratio  float64
	Tags   []string
	At     time.Time
	Wait   time.Duration
	Nested struct {
		A string
		B int `json:"b_value"`
	}
}

func TestTypedEventLayout(t *testing.T) {
	e := newEncoder(t, encode.Config{ServiceName: "orders-etl", ServiceVersion: "1.2.3", ServiceEnvironment: "prod",
		ServiceNodeName: "node-1", Hostname: "host-a", PID: 42, LoggerName: "etl"})
	ev := BadRequestReceived{Base: event.Error("rejected order").WithReason("credit").WithStatus(422).WithWarning("late"),
		Path: "/orders", Tenant: "acme", Count: 3, Ratio: 0.5, Tags: []string{"a", "b"}, At: fixedTime, Wait: time.Second}
	ev.Nested.A, ev.Nested.B = "x", 7
	rec := encode.Record{EventID: []byte("id-1"), Correlation: encode.Correlation{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		SpanID: "00f067aa0ba902b7", TransactionID: "tx", RequestID: "req", Worker: "w-1", ThreadID: 9,
		Labels: []encode.Label{{Key: "team", Value: "data"}}}, Caller: encode.Caller{File: "main.go", Line: 10, Function: "main.run"}}
	m, line := encodeLine(t, e, rec, ev)

	assert.True(t, bytes.HasPrefix(line, []byte(`{"@timestamp":"2026-11-26T10:00:00.123456Z","log.level":"error","message":"rejected order","ecs.version":"`+encode.Version+`",`)), "%s", line)
	want := map[string]any{
		"service.name": "orders-etl", "service.version": "1.2.3", "service.environment": "prod", "service.node.name": "node-1",
		"event.action": "BadRequestReceived", "event.kind": "event", "event.id": "id-1", "event.dataset": "orders-etl",
		"event.reason": "credit", "host.hostname": "host-a", "process.pid": 42.0, "process.thread.name": "w-1",
		"process.thread.id": 9.0, "log.logger": "etl", "log.origin.file.name": "main.go", "log.origin.file.line": 10.0,
		"log.origin.function": "main.run", "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736", "span.id": "00f067aa0ba902b7",
		"transaction.id": "tx", "http.request.id": "req", "http.response.status_code": 422.0, "labels.team": "data",
		"url.path": "/orders", "Pipelog.warning": "late",
		"Pipelog.BadRequestReceived.Tenant": "acme", "Pipelog.BadRequestReceived.Count": 3.0,
		"Pipelog.BadRequestReceived.Ratio": 0.5, "Pipelog.BadRequestReceived.At": "2026-11-26T10:00:00.123456Z",
		"Pipelog.BadRequestReceived.Wait": 1e9, "Pipelog.BadRequestReceived.Nested.A": "x",
		"Pipelog.BadRequestReceived.Nested.b_value": 7.0,
	}
	for path, v := range want {
		assert.Equal(t, v, get(m, path), path)
	}
	assert.Equal(t, []any{"a", "b"}, get(m, "Pipelog.BadRequestReceived.Tags"))
	assert.Nil(t, get(m, "error"), "no error, no error object")
}

func TestCorrelationIDFallsBackToTraceID(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	m, _ := encodeLine(t, e, encode.Record{Correlation: encode.Correlation{CorrelationID: "run-7"}}, BadRequestReceived{Base: event.Info("x")})
	assert.Equal(t, "run-7", get(m, "trace.id"))
	m, _ = encodeLine(t, e, encode.Record{Correlation: encode.Correlation{CorrelationID: "run-7", TraceID: "abc"}}, BadRequestReceived{Base: event.Info("x")})
	assert.Equal(t, "abc", get(m, "trace.id"))
	assert.Equal(t, "run-7", get(m, "labels.correlation_id"), "a correlation ID that differs from the trace stays searchable")
	m, _ = encodeLine(t, e, encode.Record{Correlation: encode.Correlation{CorrelationID: "abc", TraceID: "abc"}}, BadRequestReceived{Base: event.Info("x")})
	assert.Nil(t, get(m, "labels"), "the same ID is not written twice")
}

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

func TestErrorChains(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	root := &codeError{code: 7}
	cases := []struct {
		name      string
		err       error
		msg, typ  string
		wantStack bool
	}{
		{"plain", errors.New("boom"), "boom", "*errors.errorString", false},
		{"wrapped", fmt.Errorf("load: %w", root), "load: code 7", "*encode_test.codeError", false},
		{"double wrapped", fmt.Errorf("job: %w", fmt.Errorf("load: %w", root)), "job: load: code 7", "*encode_test.codeError", false},
		{"joined", errors.Join(fmt.Errorf("a: %w", root), errors.New("b")), "a: code 7\nb", "*encode_test.codeError", false},
		{"multi %w", fmt.Errorf("%w and %w", root, errors.New("x")), "code 7 and x", "*encode_test.codeError", false},
		{"with stack", fmt.Errorf("outer: %w", event.WithStack(root)), "outer: code 7", "*event.stackError", true},
		{"stack inside join", errors.Join(errors.New("first"), event.WithStack(root)), "first\ncode 7", "*errors.errorString", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, _ := encodeLine(t, e, encode.Record{}, BadRequestReceived{Base: event.Error("failed").WithErr(c.err)})
			assert.Equal(t, c.msg, get(m, "error.message"))
			assert.Equal(t, c.typ, get(m, "error.type"))
			st, _ := get(m, "error.stack_trace").(string)
			assert.Equal(t, c.wantStack, strings.Contains(st, "goroutine"), "stack: %q", st)
		})
	}
}

type panicky struct{}

func (panicky) String() string { panic("String exploded") }

type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { panic(errors.New("MarshalJSON exploded")) }

type invalidJSON struct{}

func (invalidJSON) MarshalJSON() ([]byte, error) { return []byte(`{"a":`), nil }

type dupJSON struct{}

func (dupJSON) MarshalJSON() ([]byte, error) { return []byte(`{"a":1,"a":2,"s":"ok"}`), nil }

type panicErr struct{}

func (panicErr) Error() string { panic("Error exploded") }

type BadValues struct {
	event.Base
	S       panicky
	J       badJSON
	Invalid invalidJSON
	Dup     dupJSON
	Err     error
	Any     any
	Nan     float64
	PosInf  float64
	NegInf  float32
	Bytes   []byte
	Map     map[string]int
	NilPtr  *int
	Ptr     *string
	NilErr  error
	Iface   fmt.Stringer
}

func TestBadValuesNeverBreakTheLine(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	s := "pointed"
	ev := BadValues{Base: event.Warn("bad values").WithErr(panicErr{}), S: panicky{}, Err: panicErr{}, Any: math.NaN(),
		Nan: math.NaN(), PosInf: math.Inf(1), NegInf: float32(math.Inf(-1)), Bytes: []byte("hi"), Map: map[string]int{"b": 2, "a": 1},
		Ptr: &s, Iface: panicky{}}
	m, _ := encodeLine(t, e, encode.Record{}, ev)
	f := get(m, "Pipelog.BadValues").(map[string]any)
	assert.Nil(t, f["S"])
	assert.Nil(t, f["J"])
	assert.Nil(t, f["Invalid"])
	assert.Equal(t, map[string]any{"a": 2.0, "s": "ok"}, f["Dup"], "duplicate keys from MarshalJSON are merged")
	assert.Nil(t, f["Nan"])
	assert.Nil(t, f["PosInf"])
	assert.Nil(t, f["NegInf"])
	assert.Nil(t, f["Any"], "NaN in an interface cannot be JSON either")
	assert.Equal(t, "aGk=", f["Bytes"])
	assert.Equal(t, map[string]any{"a": 1.0, "b": 2.0}, f["Map"])
	assert.NotContains(t, f, "NilPtr", "nil pointers are left out")
	assert.Equal(t, "pointed", f["Ptr"])
	assert.Nil(t, f["NilErr"])
	assert.Contains(t, get(m, "error.message"), "panicErr")
	errs := fmt.Sprint(get(m, "Pipelog.encode_errors"))
	for _, want := range []string{"String exploded", "MarshalJSON exploded", "invalid JSON", "Error exploded"} {
		assert.Contains(t, errs, want)
	}
}

type Texts struct {
	event.Base
	Path  string `ecs:"url.path"`
	Label string `ecs:"labels.origin"`
	Free  string `json:"free.text"`
}

func TestInvalidUTF8AndControlCharacters(t *testing.T) {
	e := newEncoder(t, encode.Config{ServiceName: "svc\xff"})
	bad := "a\xffb\x00c\"d\\e\nf\u2028g\x1f"
	rec := encode.Record{EventID: []byte(bad), Correlation: encode.Correlation{Worker: bad, TraceID: bad,
		Labels: []encode.Label{{Key: bad, Value: bad}, {Key: "x.y*z\\w", Value: "1"}, {Key: "", Value: "empty"}}}}
	m, line := encodeLine(t, e, rec, Texts{Base: event.Info(bad).WithErr(errors.New(bad)).WithWarning(bad), Path: bad, Label: bad, Free: bad})
	want := "a\ufffdb\x00c\"d\\e\nf\u2028g\x1f"
	assert.Equal(t, want, m["message"])
	assert.Equal(t, want, get(m, "url.path"))
	assert.Equal(t, want, get(m, "error.message"))
	assert.Equal(t, want, get(m, "Pipelog.Texts.free.text"), "dots in custom keys nest (the key rule)")
	assert.Equal(t, "svc\ufffd", get(m, "service.name"))
	labels := get(m, "labels").(map[string]any)
	assert.Equal(t, want, labels["origin"])
	assert.Equal(t, "1", labels["x_y_z_w"], "label keys are sanitised per the spec")
	assert.Equal(t, "empty", labels["_"])
	assert.Equal(t, want, labels[strings.ReplaceAll(want, "\\", "_")])
	assert.Equal(t, 1, bytes.Count(line, []byte("\n")))
}

func TestHugeMessageIsCut(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	msg := strings.Repeat("é", 5<<20) // 10 MB of two-byte runes
	m, line := encodeLine(t, e, encode.Record{}, BadRequestReceived{Base: event.Info(msg)})
	got := m["message"].(string)
	assert.Less(t, len(line), encode.DefaultMaxStringBytes+4096)
	assert.True(t, strings.HasSuffix(got, fmt.Sprintf("…(truncated %d bytes)", 10<<20-encode.DefaultMaxStringBytes)), got[len(got)-40:])

	unlimited := newEncoder(t, encode.Config{MaxStringBytes: -1, MaxLineBytes: -1})
	m, _ = encodeLine(t, unlimited, encode.Record{}, BadRequestReceived{Base: event.Info(msg)})
	assert.Equal(t, msg, m["message"])
}

type ReservedNames struct {
	event.Base
	Message   string `json:"message"`
	Timestamp string `json:"@timestamp"`
	Version   string `json:"ecs.version"`
	Level     string `json:"log.level"`
}

func TestUserFieldsNamedLikeSpecFieldsStayCustom(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	m, _ := encodeLine(t, e, encode.Record{}, ReservedNames{Base: event.Info("real"), Message: "m", Timestamp: "t", Version: "v", Level: "l"})
	assert.Equal(t, "real", m["message"])
	assert.Equal(t, encode.Version, m["ecs.version"])
	assert.Equal(t, "info", m["log.level"])
	assert.Equal(t, map[string]any{"message": "m", "@timestamp": "t", "ecs": map[string]any{"version": "v"},
		"log": map[string]any{"level": "l"}}, get(m, "Pipelog.ReservedNames"))
}

type ClaimsMessage struct {
	event.Base
	Msg string `ecs:"message"`
}
type ClaimsTimestamp struct {
	event.Base
	T time.Time `ecs:"@timestamp"`
}
type ClaimsTraceID struct {
	event.Base
	T string `ecs:"trace.id"`
}
type WrongType struct {
	event.Base
	Status string `ecs:"http.request.bytes"`
}
type NotECS struct {
	event.Base
	X string `ecs:"url.nonsense"`
}
type BelowLeaf struct {
	event.Base
	X string `ecs:"url.path.deeper"`
}
type FieldSet struct {
	event.Base
	X string `ecs:"url"`
}
type TwoClaims struct {
	event.Base
	A string `ecs:"url.path"`
	B string `ecs:"url.path"`
}
type KindOverride struct {
	event.Base
	Kind     string        `ecs:"event.kind"`
	Category []string      `ecs:"event.category"`
	Start    time.Time     `ecs:"event.start"`
	Duration time.Duration `ecs:"event.duration"`
	Bytes    int64         `ecs:"http.response.body.bytes"`
	IP       string        `ecs:"client.ip"`
}

func checkErr[E any](t *testing.T, want string) {
	t.Helper()
	err := encode.Check(reflect.TypeFor[E]())
	if want == "" {
		assert.NoError(t, err)
		return
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, encode.ErrInvalidEvent)
	assert.Contains(t, err.Error(), want)
}

func TestEventTypesAreCheckedAgainstECS(t *testing.T) {
	checkErr[WrongType](t, `does not fit ECS field "http.request.bytes" of type long`)
	checkErr[NotECS](t, `"url.nonsense" is not an ECS`)
	checkErr[BelowLeaf](t, `lies below the ECS leaf field "url.path"`)
	checkErr[FieldSet](t, `is an ECS field set`)
	checkErr[TwoClaims](t, `both claim ECS field "url.path"`)
	checkErr[KindOverride](t, "")
	checkErr[BadRequestReceived](t, "")
}

func TestClaimingLibraryFieldsIsAnErrorNotADuplicate(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	for _, c := range []struct {
		name string
		run  func() ([]byte, error)
	}{
		{"message", func() ([]byte, error) {
			return appendEvent(e, nil, nil, &encode.Record{Time: fixedTime}, ClaimsMessage{Base: event.Info("m"), Msg: "x"})
		}},
		{"@timestamp", func() ([]byte, error) {
			return appendEvent(e, nil, nil, &encode.Record{Time: fixedTime}, ClaimsTimestamp{Base: event.Info("m"), T: fixedTime})
		}},
		{"trace.id", func() ([]byte, error) {
			return appendEvent(e, nil, nil, &encode.Record{Time: fixedTime, Correlation: encode.Correlation{TraceID: "t"}}, ClaimsTraceID{Base: event.Info("m"), T: "x"})
		}},
		{"wrong type", func() ([]byte, error) {
			return appendEvent(e, nil, nil, &encode.Record{Time: fixedTime}, WrongType{Base: event.Info("m"), Status: "x"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			line, err := c.run()
			require.Error(t, err, "the first line of a broken type reports the problem")
			conformance.RequireConformant(t, line)
			assert.Contains(t, string(line), `"encode_errors":[`)
			_, again := c.run()
			assert.NoError(t, again, "reported once per encoder and type")
		})
	}
}

func TestOverridableAndExtraECSFields(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	m, _ := encodeLine(t, e, encode.Record{}, KindOverride{Base: event.Info("x"), Kind: "metric", Category: []string{"process"},
		Start: fixedTime, Duration: 1500 * time.Millisecond, Bytes: 10, IP: "10.0.0.1"})
	assert.Equal(t, "metric", get(m, "event.kind"))
	assert.Equal(t, []any{"process"}, get(m, "event.category"))
	assert.Equal(t, 1.5e9, get(m, "event.duration"))
	assert.Equal(t, "2026-11-26T10:00:00.123456Z", get(m, "event.start"))
}

type PtrBase struct {
	*event.Base
	N int
}

func TestNilEmbeddedBase(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	m, _ := encodeLine(t, e, encode.Record{}, PtrBase{N: 1})
	assert.Equal(t, "info", m["log.level"])
	assert.Equal(t, "PtrBase", m["message"], "an event without a message is named by its type")
	assert.Equal(t, 1.0, get(m, "Pipelog.PtrBase.N"))
}

func TestWithFields(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	fx, err := e.Fix(nil, []encode.Field{{Key: "cloud.region", Value: "eu-1"}, {Key: "cloud.provider", Value: "aws"}, {Key: "run.id", Value: 7}})
	require.NoError(t, err)
	fx2, err := e.Fix(fx, []encode.Field{{Key: "trace.id", Value: "x"}, {Key: "cloud.region", Value: "again"},
		{Key: "http.request.bytes", Value: "not a number"}, {Key: "", Value: 1}, {Key: "cloud", Value: "set"}})
	require.Error(t, err)
	for _, want := range []string{`"trace.id" is written by pipelog`, `does not fit ECS type long`, "empty key"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "cloud.region", "a later field replaces an earlier one: no error")
	rec := encode.Record{Correlation: encode.Correlation{Labels: []encode.Label{{Key: "run_id", Value: "ctx wins"}}}}
	m, _ := encodeLineFixed(t, e, fx2, rec, BadRequestReceived{Base: event.Info("x")})
	assert.Equal(t, "again", get(m, "cloud.region"))
	assert.Equal(t, "aws", get(m, "cloud.provider"))
	assert.Equal(t, "set", get(m, "labels.cloud"), "a key that is no ECS field is a label")
	assert.Equal(t, "ctx wins", get(m, "labels.run_id"), "context labels win over fixed ones with the same sanitised key")
	m, _ = encodeLineFixed(t, e, fx, rec, BadRequestReceived{Base: event.Info("x")})
	assert.Equal(t, "eu-1", get(m, "cloud.region"), "deriving does not change the parent")
}

func TestTimestampFormat(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05.000000Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.FixedZone("x", 3600)), "2026-01-02T02:04:05.999999Z"},
		{time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), "0000-01-01T00:00:00.000000Z"},
		{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), "9999-12-31T23:59:59.999999Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 1000, time.UTC), "2026-01-02T03:04:05.000001Z"}, // same second as earlier rows: cache hit
		{time.Date(2026, 1, 2, 3, 4, 6, 1000, time.UTC), "2026-01-02T03:04:06.000001Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 2000, time.UTC), "2026-01-02T03:04:05.000002Z"}, // back a second
	} {
		m, _ := encodeLine(t, e, encode.Record{Time: tc.in}, BadRequestReceived{Base: event.Info("x")})
		assert.Equal(t, tc.want, m["@timestamp"])
	}
}

func TestLevels(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	for lvl, want := range map[event.Level]string{event.LevelDebug: "debug", event.LevelInfo: "info", event.LevelWarn: "warn",
		event.LevelError: "error", event.LevelInfo + 2: "info+2", event.LevelError + 4: "error+4", event.LevelDebug - 2: "debug-2"} {
		m, _ := encodeLine(t, e, encode.Record{}, BadRequestReceived{Base: event.Base{Level: lvl, Message: "x"}})
		assert.Equal(t, want, m["log.level"])
	}
}

func TestEscapingMatchesEncodingJSON(t *testing.T) {
	e := newEncoder(t, encode.Config{})
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	inputs := []string{"plain ascii text, long enough for words", "12345678\"", "1234567\\8", "abcdefg\x01h", "abcdefgh\x7f", "ünïcödé strings here", string(all)}
	for i := 0; i < len(all); i++ {
		inputs = append(inputs, "abcdefghijklmnop"[:i%16]+string(all[i])+"qrstuvwx")
	}
	for _, in := range inputs {
		m, _ := encodeLine(t, e, encode.Record{}, BadRequestReceived{Base: event.Info(in)})
		ref, err := json.Marshal(in) // encoding/json: each invalid byte becomes U+FFFD
		require.NoError(t, err)
		var want string
		require.NoError(t, json.Unmarshal(ref, &want))
		assert.Equal(t, want, m["message"], "%q", in)
	}
}

func TestAllocAppend(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test runs this test without it")
	}
	e := newEncoder(t, encode.Config{})
	buf := make([]byte, 0, 4096)
	rec := &encode.Record{Time: fixedTime, Base: event.Info("m"), Correlation: encode.Correlation{TraceID: "t",
		Labels: []encode.Label{{Key: "a", Value: "b"}}}}
	ev := Texts{Base: event.Info("m"), Path: "/x", Label: "origin", Free: "free"}
	if n := testing.AllocsPerRun(100, func() { buf, _ = appendEvent(e, nil, buf[:0], rec, ev) }); n != 0 {
		t.Errorf("AppendEvent: %v allocs per line", n)
	}
	fields := []encode.DynamicField{{Path: "url.path", Value: []byte(`"/x"`), Shape: encode.ShapeString}}
	if n := testing.AllocsPerRun(100, func() { buf = e.AppendDynamic(buf[:0], nil, rec, fields, nil) }); n != 0 {
		t.Errorf("AppendDynamic: %v allocs per line", n)
	}
}

// A label key that needs sanitising ('.', '*', '\') costs no allocation
// either: it is sanitised as it is written.
func TestAllocDirtyLabelKeys(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test runs this test without it")
	}
	e := newEncoder(t, encode.Config{})
	buf := make([]byte, 0, 4096)
	rec := &encode.Record{Time: fixedTime, Base: event.Info("m"), Correlation: encode.Correlation{
		Labels: []encode.Label{{Key: "tenant.id", Value: "acme"}, {Key: "job*step", Value: "2"}, {Key: "tenant_id", Value: "dup"}}}}
	ev := Texts{Base: event.Info("m"), Path: "/x"}
	if n := testing.AllocsPerRun(100, func() { buf, _ = appendEvent(e, nil, buf[:0], rec, ev) }); n != 0 {
		t.Errorf("AppendEvent: %v allocs per line", n)
	}
	m, _ := encodeLine(t, e, *rec, ev)
	assert.Equal(t, map[string]any{"tenant_id": "acme", "job_step": "2"}, m["labels"])
}
