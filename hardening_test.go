package pipelog_test

// Defects found by trying pipelog as users would (issue 11): each test here
// failed before its fix.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/ecs"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/sink"
)

// QueryError's methods read its fields, so a nil *QueryError panics in
// every one of them, as real error types do.
type QueryError struct {
	Query string
	Err   error
}

func (e *QueryError) Error() string      { return "query " + e.Query + ": " + e.Err.Error() }
func (e *QueryError) Unwrap() error      { return e.Err }
func (e *QueryError) StackTrace() string { return e.Query }

type QueryFailed struct {
	event.Base
	Table string
}

// A typed-nil error, bare or wrapped, is written the way zap and slog write
// it ("<nil>") and never panics the host.
func TestTypedNilErrorDoesNotPanic(t *testing.T) {
	var typedNil *QueryError
	for name, err := range map[string]error{
		"bare":    typedNil,
		"wrapped": fmt.Errorf("load: %w", error(typedNil)),
		"joined":  errors.Join(errors.New("first"), typedNil),
		"double":  fmt.Errorf("%w and %w", typedNil, errors.New("other")),
	} {
		t.Run(name, func(t *testing.T) {
			log, mem, errs := testlog.Logger(t, pipelog.Config{})
			require.NotPanics(t, func() {
				pipelog.Emit(context.Background(), log, QueryFailed{Base: event.Error("x").WithErr(err), Table: "t"})
			})
			lines := testlog.Lines(t, mem)
			require.Len(t, lines, 1)
			msg, _ := testlog.At(lines[0], "error.message").(string)
			assert.Contains(t, msg, "<nil>")
			assert.Equal(t, "t", testlog.At(lines[0], "Pipelog.QueryFailed.Table"))
			_ = errs
		})
	}
}

// An error whose Unwrap panics, or whose chain is a cycle, stops the walk
// without a panic; the line is still written.
type cycleErr struct{ next *cycleErr }

func (e *cycleErr) Error() string { return "cycle" }
func (e *cycleErr) Unwrap() error { return e.next }

type panicUnwrap struct{}

func (panicUnwrap) Error() string { return "unwrap panics" }
func (panicUnwrap) Unwrap() error { panic("boom") }

func TestHostileErrorChains(t *testing.T) {
	c := &cycleErr{}
	c.next = c
	for name, err := range map[string]error{"cycle": c, "panicking Unwrap": panicUnwrap{}} {
		t.Run(name, func(t *testing.T) {
			log, mem, _ := testlog.Logger(t, pipelog.Config{})
			require.NotPanics(t, func() {
				pipelog.Emit(context.Background(), log, QueryFailed{Base: event.Error("x").WithErr(err)})
			})
			lines := testlog.Lines(t, mem)
			require.Len(t, lines, 1)
			assert.Equal(t, err.Error(), testlog.At(lines[0], "error.message"))
		})
	}
}

// The README's pattern for a sink that failed to open, and a nil
// *Logger's every method.
func TestNilSinksAndNilLogger(t *testing.T) {
	var file *sink.File
	_, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{file}})
	assert.ErrorContains(t, err, "nil")
	_, err = pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{sink.MinLevel(nil, event.LevelInfo)}})
	assert.ErrorContains(t, err, "nil")

	var log *pipelog.Logger
	require.NotPanics(t, func() {
		ctx := context.Background()
		assert.NoError(t, log.Flush(ctx))
		assert.NoError(t, log.Close(ctx))
		log.SetLevel(event.LevelDebug)
		_ = log.Stats()
		_ = log.Level()
		_ = log.With(pipelog.Field{Key: "a", Value: "b"})
		pipelog.Emit(ctx, log, QueryFailed{Base: event.Info("x")})
	})
}

type panicSink struct{}

func (panicSink) Write([]byte) error          { panic("sink bug") }
func (panicSink) Flush(context.Context) error { return nil }
func (panicSink) Close(context.Context) error { return nil }

// A sink whose Write panics is recovered, counted and reported; an event
// every sink refused is Failed, never Written (item 16).
func TestPanickingSinkCountedNotWritten(t *testing.T) {
	var reported []error
	log, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{panicSink{}},
		OnError: func(err error) { reported = append(reported, err) }})
	require.NoError(t, err)
	require.NotPanics(t, func() { pipelog.Emit(context.Background(), log, QueryFailed{Base: event.Info("x")}) })
	st := log.Stats()
	assert.Equal(t, uint64(0), st.Written)
	assert.Equal(t, uint64(1), st.Failed)
	assert.Equal(t, uint64(1), st.SinkErrors)
	require.NotEmpty(t, reported)
	assert.Contains(t, reported[0].Error(), "sink bug")
}

type Node struct {
	Next any
	N    int
}

type DeepValue struct {
	event.Base
	V any
}

// A very deep value (a long linked list in an any field) stops at the
// documented depth, with a note, instead of overflowing the stack or
// silently becoming null.
func TestDeepValueCutAtDepthLimit(t *testing.T) {
	var list any
	for i := range 100_000 {
		list = &Node{Next: list, N: i}
	}
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	require.NotPanics(t, func() { pipelog.Emit(context.Background(), log, DeepValue{Base: event.Info("x"), V: list}) })
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	notes := fmt.Sprint(testlog.At(lines[0], "Pipelog.encode_errors"))
	assert.Contains(t, notes, "MaxValueDepth")
	// the first levels are there
	v := testlog.At(lines[0], "Pipelog.DeepValue.V.N")
	assert.EqualValues(t, "99999", fmt.Sprint(v))
}

type Addrs struct {
	event.Base
	Client net.IP     `ecs:"client.ip"`
	Source netip.Addr `ecs:"source.ip"`
}

// Zero addresses are omitted, as zero times and nil pointers are (item 5).
func TestZeroIPsOmitted(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Addrs{Base: event.Info("x")})
	pipelog.Emit(context.Background(), log, Addrs{Base: event.Info("x"), Client: net.IPv4(10, 0, 0, 1), Source: netip.MustParseAddr("::1")})
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 2)
	testlog.WantAbsent(t, lines[0], "client.ip")
	testlog.WantAbsent(t, lines[0], "source.ip")
	testlog.WantAt(t, lines[1], "client.ip", "10.0.0.1")
	testlog.WantAt(t, lines[1], "source.ip", "::1")
}

type Related struct {
	event.Base
	IPs []string `ecs:"related.ip"`
}

// A typed string on an ECS ip field is checked per value: one that is not
// an address goes to the custom namespace with a note (item 6).
func TestStringOnIPFieldValidated(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Related{Base: event.Info("x"), IPs: []string{"10.0.0.1", "not-an-ip"}})
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	testlog.WantAbsent(t, lines[0], "related.ip")
	assert.Equal(t, []any{"10.0.0.1", "not-an-ip"}, testlog.At(lines[0], "Pipelog.Related.IPs"))
	assert.Contains(t, fmt.Sprint(testlog.At(lines[0], "Pipelog.encode_errors")), "related.ip")
}

type Uptime struct {
	event.Base
	Up  time.Duration `ecs:"process.uptime"`
	Dur time.Duration `ecs:"event.duration"`
}

type WrongUnit struct {
	event.Base
	Bytes time.Duration `ecs:"http.request.bytes"`
}

// A duration lands only where its unit is right (item 7): seconds on the
// uptime fields, nanoseconds on event.duration, refused elsewhere.
func TestDurationUnits(t *testing.T) {
	log, mem, errs := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Uptime{Base: event.Info("x"), Up: 90 * time.Second, Dur: 1500 * time.Millisecond})
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	assert.Equal(t, "90", fmt.Sprint(testlog.At(lines[0], "process.uptime")))
	assert.Equal(t, "1500000000", fmt.Sprint(testlog.At(lines[0], "event.duration")))

	err := ecs.Check[WrongUnit]()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http.request.bytes")
	pipelog.Emit(context.Background(), log, WrongUnit{Base: event.Info("x"), Bytes: time.Second})
	assert.NotEmpty(t, errs())
}

type Values struct {
	event.Base
	M map[string]any
	S []any
	A any
}

// Values inside maps, slices and any fields get the top-level treatment
// (item 8): times in UTC with at most µs, zero times omitted, no HTML
// escaping.
func TestNestedValuesLikeTopLevel(t *testing.T) {
	local := time.FixedZone("X", 3600)
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, local)
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Values{Base: event.Info("x"),
		M: map[string]any{"t": ts, "zero": time.Time{}, "html": "<a>&"},
		S: []any{ts, "<b>"},
		A: struct{ T time.Time }{ts}})
	raw := string(mem.Lines()[0])
	assert.NotContains(t, raw, `\u003c`)
	assert.NotContains(t, raw, `0001-01-01`)
	lines := testlog.Lines(t, mem)
	testlog.WantAt(t, lines[0], "Pipelog.Values.M.t", "2024-05-06T06:08:09.123456Z")
	testlog.WantAbsent(t, lines[0], "Pipelog.Values.M.zero")
	testlog.WantAt(t, lines[0], "Pipelog.Values.M.html", "<a>&")
	assert.Equal(t, []any{"2024-05-06T06:08:09.123456Z", "<b>"}, testlog.At(lines[0], "Pipelog.Values.S"))
	testlog.WantAt(t, lines[0], "Pipelog.Values.A.T", "2024-05-06T06:08:09.123456Z")
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("null"), nil
	}
	return []byte(r), nil
}

type Keys struct {
	event.Base
	M     map[string]int
	Empty map[string]int
	Dots  map[string]int
	J     rawJSON
}

// Map keys and MarshalJSON object keys follow the one key rule (item 9):
// dots nest, empty segments become "_", invalid UTF-8 becomes U+FFFD, and
// no path is written twice without a note.
func TestKeyRule(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Keys{Base: event.Info("x"),
		M:     map[string]int{"a.b": 1, "x.": 5, "\xff": 6, "\xfe": 7},
		Empty: map[string]int{"": 2},
		Dots:  map[string]int{"..": 3, ".y": 4},
		J:     `{"a.b":1,"a":{"b":2},"c.d":3,"":4}`})
	lines := testlog.Lines(t, mem) // no duplicate or empty keys: the checker refuses them
	require.Len(t, lines, 1)
	l := lines[0]
	assert.Equal(t, "1", fmt.Sprint(testlog.At(l, "Pipelog.Keys.M.a.b")))
	assert.Equal(t, "5", fmt.Sprint(testlog.At(l, "Pipelog.Keys.M.x._")))
	assert.Equal(t, "6", fmt.Sprint(testlog.At(l, "Pipelog.Keys.M.\uFFFD")), "the later key in order is kept")
	assert.Equal(t, "2", fmt.Sprint(testlog.At(l, "Pipelog.Keys.Empty._")))
	assert.Equal(t, "3", fmt.Sprint(testlog.At(l, "Pipelog.Keys.Dots._._._")))
	assert.Equal(t, "4", fmt.Sprint(testlog.At(l, "Pipelog.Keys.Dots._.y")))
	assert.Equal(t, "2", fmt.Sprint(testlog.At(l, "Pipelog.Keys.J.a.b")), "the later member is kept")
	assert.Equal(t, "3", fmt.Sprint(testlog.At(l, "Pipelog.Keys.J.c.d")))
	assert.Equal(t, "4", fmt.Sprint(testlog.At(l, "Pipelog.Keys.J._")))
	notes := fmt.Sprint(testlog.At(l, "Pipelog.encode_errors"))
	assert.Contains(t, notes, "Pipelog.Keys.J.a.b: written twice")
	assert.Contains(t, notes, "Pipelog.Keys.M.\uFFFD: written twice")
}

type Gen[T any] struct {
	event.Base
	V T
}

// A generic event type's root key has no dot (item 10).
func TestGenericEventRootKey(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Gen[time.Duration]{Base: event.Info("x"), V: time.Second})
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	pl, _ := lines[0]["Pipelog"].(map[string]any)
	require.NotNil(t, pl)
	for k := range pl {
		assert.NotContains(t, k, ".")
	}
	assert.Equal(t, "Gen[time.Duration]", testlog.At(lines[0], "event.action"))

	// A type argument from a module keeps its package name, not its path.
	pipelog.Emit(context.Background(), log, Gen[map[string]*QueryError]{Base: event.Info("x")})
	lines = testlog.Lines(t, mem)
	assert.Equal(t, "Gen[map[string]*pipelog_test.QueryError]", testlog.At(lines[1], "event.action"))
}

type Big struct {
	event.Base
	Rows []string
	J    rawJSON
}

// A whole line is bounded (item 11), whatever makes it large, with a note
// or a marker saying what was cut.
func TestWholeLineBound(t *testing.T) {
	rows := make([]string, 300_000)
	for i := range rows {
		rows[i] = strings.Repeat("r", 90)
	}
	big := rawJSON(`"` + strings.Repeat("j", 5<<20) + `"`)
	some, err := json.Marshal(rows[:20000])
	require.NoError(t, err)
	log, mem, _ := testlog.Logger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, Big{Base: event.Info("x"), Rows: rows})
	pipelog.Emit(context.Background(), log, Big{Base: event.Info("x"), J: big})
	pipelog.Emit(context.Background(), log, Big{Base: event.Info("x"), Rows: rows[:5000], J: `{"rows":` + rawJSON(some) + `}`})
	lines := mem.Lines()
	require.Len(t, lines, 3)
	for _, l := range lines {
		assert.LessOrEqual(t, len(l), pipelog.DefaultMaxLineBytes)
	}
	decoded := testlog.Lines(t, mem)
	notes := fmt.Sprint(testlog.At(decoded[0], "Pipelog.encode_errors"))
	assert.Contains(t, notes, "MaxLineBytes")
	assert.Contains(t, notes, "Pipelog.Big.Rows: cut after")
	j, _ := testlog.At(decoded[1], "Pipelog.Big.J").(string)
	assert.True(t, strings.HasSuffix(j, "bytes)"), "a 5 MB string from MarshalJSON is cut with its marker")
	notes = fmt.Sprint(testlog.At(decoded[2], "Pipelog.encode_errors"))
	assert.Contains(t, notes, "Pipelog.Big.J.rows: cut after")
}

type Bytes struct {
	event.Base
	S string
}

// Invalid bytes in a cut string are replaced, not dropped (item 12).
func TestInvalidBytesReplacedThenCut(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{MaxStringBytes: 1 << 10})
	pipelog.Emit(context.Background(), log, Bytes{Base: event.Info("x"), S: strings.Repeat("\x80", 2<<20)})
	lines := testlog.Lines(t, mem)
	s, _ := testlog.At(lines[0], "Pipelog.Bytes.S").(string)
	assert.True(t, strings.HasPrefix(s, strings.Repeat("\uFFFD", 100)), "%.40q", s)
	assert.Contains(t, s, "truncated")
}

type ClaimsMessage struct {
	event.Base
	M string `ecs:"message"`
}

type ClaimsTrace struct {
	event.Base
	T string `ecs:"trace.id"`
}

// ecs.Check reports what Emit would refuse (item 14).
func TestCheckReportsReservedFields(t *testing.T) {
	assert.Error(t, ecs.Check[ClaimsMessage]())
	assert.Error(t, ecs.Check[ClaimsTrace]())
	assert.NoError(t, ecs.Check[QueryFailed]())
}

type panicCtx struct{ context.Context }

func (panicCtx) Value(any) any { panic("context bug") }

// Anything else that panics while a line is made (here a context's Value)
// is caught: a minimal line is written and the panic reported.
func TestEmitSafetyNet(t *testing.T) {
	log, mem, errs := testlog.Logger(t, pipelog.Config{})
	require.NotPanics(t, func() {
		pipelog.Emit(panicCtx{context.Background()}, log, QueryFailed{Base: event.Warn("still here"), Table: "t"})
	})
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	testlog.WantAt(t, lines[0], "log.level", "warn")
	testlog.WantAt(t, lines[0], "message", "still here")
	testlog.WantAt(t, lines[0], "event.action", "QueryFailed")
	assert.Contains(t, fmt.Sprint(testlog.At(lines[0], "Pipelog.encode_errors")), "context bug")
	require.NotEmpty(t, errs())
	assert.Contains(t, errs()[0].Error(), "context bug")
	assert.Equal(t, uint64(1), log.Stats().Written)
}

// An OnError that panics is not raised into the caller either.
func TestPanickingOnError(t *testing.T) {
	log, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{panicSink{}},
		OnError: func(error) { panic("handler bug") }})
	require.NoError(t, err)
	require.NotPanics(t, func() { pipelog.Emit(context.Background(), log, QueryFailed{Base: event.Info("x")}) })
	assert.Equal(t, uint64(1), log.Stats().Failed)
}

// With and Config.Fields follow the same rules for units and addresses.
func TestFixedFieldUnitsAndAddresses(t *testing.T) {
	log, mem, errs := testlog.Logger(t, pipelog.Config{})
	l := log.With(pipelog.Field{Key: "process.uptime", Value: 90 * time.Second},
		pipelog.Field{Key: "host.ip", Value: net.ParseIP("10.1.2.3")},
		pipelog.Field{Key: "client.ip", Value: "not-an-ip"},
		pipelog.Field{Key: "http.request.bytes", Value: time.Second},
		pipelog.Field{Key: "gen_ai.request.seed", Value: int64(1) << 40}) // ECS integer: 32 bits
	pipelog.Emit(context.Background(), l, QueryFailed{Base: event.Info("x")})
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	assert.Equal(t, "90", fmt.Sprint(testlog.At(lines[0], "process.uptime")))
	assert.Equal(t, "10.1.2.3", testlog.At(lines[0], "host.ip"))
	testlog.WantAbsent(t, lines[0], "client.ip")
	testlog.WantAbsent(t, lines[0], "http.request.bytes")
	testlog.WantAbsent(t, lines[0], "gen_ai.request.seed")
	require.NotEmpty(t, errs())
	for _, f := range []string{"client.ip", "http.request.bytes", "gen_ai.request.seed"} {
		assert.Contains(t, fmt.Sprint(errs()), f)
	}
}

// A sink that panics does not keep the line from the sinks after it.
func TestPanickingSinkThenHealthySink(t *testing.T) {
	mem := &memsink.Sink{}
	var reported []error
	log, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{panicSink{}, panicSink{}, mem},
		OnError: func(err error) { reported = append(reported, err) }})
	require.NoError(t, err)
	for range 3 {
		require.NotPanics(t, func() { pipelog.Emit(context.Background(), log, QueryFailed{Base: event.Info("x")}) })
	}
	assert.Len(t, mem.Lines(), 3)
	st := log.Stats()
	assert.Equal(t, uint64(3), st.Written)
	assert.Equal(t, uint64(6), st.SinkErrors)
	assert.Len(t, reported, 6)
}

type downSink struct{}

func (downSink) Write([]byte) error          { return errors.New("down") }
func (downSink) Flush(context.Context) error { return nil }
func (downSink) Close(context.Context) error { return nil }

// An event every sink refused is Failed, not Written (item 16; Written was 1
// on the code before the redesign).
func TestRefusedEventIsNotWritten(t *testing.T) {
	log, err := pipelog.New(pipelog.Config{Service: "s", Sinks: []sink.Sink{downSink{}}, OnError: func(error) {}})
	require.NoError(t, err)
	pipelog.Emit(context.Background(), log, QueryFailed{Base: event.Info("x")})
	st := log.Stats()
	assert.Equal(t, uint64(0), st.Written)
	assert.Equal(t, uint64(1), st.Failed)
}
