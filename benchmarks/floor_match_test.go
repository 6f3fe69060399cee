package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// fixedNow is the instant both sides of a comparison are given.
var fixedNow = time.Date(2026, 11, 26, 10, 0, 7, 123456789, time.UTC)

// eventIDPattern finds event.id in a line of OrderRejected.
var eventIDPattern = regexp.MustCompile(`"event":\{"action":"OrderRejected","kind":"event","id":"([0-9a-f]{32})"`)

// normaliseID replaces the line's event.id (checked to be 32 hex digits)
// with zeros and returns the ID it had.
func normaliseID(t *testing.T, line string) (string, string) {
	t.Helper()
	m := eventIDPattern.FindStringSubmatchIndex(line)
	if m == nil {
		t.Fatalf("no 32-hex-digit event.id in %q", line)
	}
	return line[:m[2]] + strings.Repeat("0", 32) + line[m[3]:], line[m[2]:m[3]]
}

// lineWriter collects what a sink.Writer is given, one Write per line.
type lineCollector struct{ lines []string }

func (c *lineCollector) Write(p []byte) (int, error) {
	c.lines = append(c.lines, string(p))
	return len(p), nil
}

type sideConfig struct {
	Service, Version, Environment, Hostname string
}

// twoSides returns a pipelog Logger and a floor with the same configuration
// and clock, each writing to its own collector.
func twoSides(t *testing.T, cfg sideConfig) (*pipelog.Logger, *lineCollector, *floorLogger, *lineCollector) {
	t.Helper()
	var pl, fl lineCollector
	log, err := pipelog.New(pipelog.Config{Service: cfg.Service, Version: cfg.Version, Environment: cfg.Environment,
		Hostname: cfg.Hostname, Level: event.LevelDebug, Now: func() time.Time { return fixedNow },
		Sinks: []sink.Sink{sink.NewWriter(&pl, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	f := newFloor(floorConfig{Service: cfg.Service, Version: cfg.Version, Environment: cfg.Environment,
		Hostname: cfg.Hostname, Level: event.LevelDebug, Now: func() time.Time { return fixedNow },
		Sink: sink.NewWriter(&fl, sink.WriterConfig{})})
	return log, &pl, f, &fl
}

// compareLines emits ev through both sides and fails unless the lines are
// equal byte for byte once event.id is normalised. It returns the floor's
// line.
func compareLines(t *testing.T, log *pipelog.Logger, pl *lineCollector, f *floorLogger, fl *lineCollector,
	ctx context.Context, ev OrderRejected) string {
	t.Helper()
	pl.lines, fl.lines = nil, nil
	pipelog.Emit(ctx, log, ev)
	f.emit(ctx, &ev)
	if len(pl.lines) != 1 || len(fl.lines) != 1 {
		t.Fatalf("writes: pipelog %d, floor %d; want one each", len(pl.lines), len(fl.lines))
	}
	want, _ := normaliseID(t, pl.lines[0])
	got, _ := normaliseID(t, fl.lines[0])
	if got != want {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("floor and pipelog differ at byte %d:\nfloor:   %.300q\npipelog: %.300q", i, got[max(0, i-40):], want[max(0, i-40):])
	}
	if !json.Valid([]byte(got)) {
		t.Fatalf("floor line is not valid JSON: %q", got)
	}
	return fl.lines[0]
}

type floorTestError struct{ code int }

func (e *floorTestError) Error() string { return "code " + string(rune('0'+e.code)) }

func benchEvent() OrderRejected {
	return OrderRejected{
		Base: event.Warn("order rejected").WithErr(errRejected).WithReason("credit"),
		Path: "/v1/orders", Method: "POST", Tenant: "acme", OrderID: "ord-123456", Customer: "cust-42",
		Items: 3, Amount: 129.95, Retry: true, Elapsed: 1500 * time.Microsecond, Source: "kafka"}
}

func benchContext() context.Context {
	return logctx.WithWorker(logctx.WithTrace(context.Background(), traceID, spanID), worker)
}

// TestFloorMatchesPipelog checks that the floor writes pipelog's line for
// OrderRejected, byte for byte, for the benchmark's inputs and for inputs
// that exercise every branch of the document: optional fields absent,
// strings that need escaping or repair, floats JSON cannot express, every
// context value the floor writes.
func TestFloorMatchesPipelog(t *testing.T) {
	nasty := "q\"b\\s/\x00\x01\b\f\n\r\t\x1f\x7f é世🙂 \u2028 \ufffd bad:\xff\xfe cut:\xe2\x82 end"
	withStack := event.WithStack(errors.New("disk \"full\""))
	cases := []struct {
		name string
		ctx  context.Context
		ev   func() OrderRejected
	}{
		{"benchmark", benchContext(), benchEvent},
		{"no context", context.Background(), benchEvent},
		{"nil context", nil, benchEvent},
		{"correlation only", logctx.WithCorrelationID(context.Background(), "corr-1"), benchEvent},
		{"correlation equals trace", logctx.WithCorrelationID(benchContext(), traceID), benchEvent},
		{"transaction and request", logctx.WithRequestID(logctx.WithTransactionID(benchContext(), "tx-9"), "req-7"), benchEvent},
		{"request without method", logctx.WithRequestID(context.Background(), "req-7"), func() OrderRejected {
			ev := benchEvent()
			ev.Method = ""
			return ev
		}},
		{"status code", context.Background(), func() OrderRejected {
			ev := benchEvent()
			ev.Base = ev.WithStatus(502)
			return ev
		}},
		{"status code only", logctx.WithRequestID(context.Background(), "r"), func() OrderRejected {
			ev := benchEvent()
			ev.Base, ev.Method = ev.WithStatus(404), ""
			return ev
		}},
		{"warning", benchContext(), func() OrderRejected {
			ev := benchEvent()
			ev.Base = ev.WithWarning("slow")
			return ev
		}},
		{"zero values", context.Background(), func() OrderRejected { return OrderRejected{} }},
		{"levels", context.Background(), func() OrderRejected {
			ev := benchEvent()
			ev.Level = event.LevelDebug
			return ev
		}},
		{"info", context.Background(), func() OrderRejected { ev := benchEvent(); ev.Level = event.LevelInfo; return ev }},
		{"error", context.Background(), func() OrderRejected { ev := benchEvent(); ev.Level = event.LevelError; return ev }},
		{"warn+1", context.Background(), func() OrderRejected { ev := benchEvent(); ev.Level = event.LevelWarn + 1; return ev }},
		{"error+12", context.Background(), func() OrderRejected { ev := benchEvent(); ev.Level = 20; return ev }},
		{"custom error type", context.Background(), func() OrderRejected {
			ev := benchEvent()
			ev.Err = &floorTestError{code: 7}
			return ev
		}},
		{"stack trace", context.Background(), func() OrderRejected {
			ev := benchEvent()
			ev.Err = withStack
			return ev
		}},
		{"escaping everywhere", logctx.WithWorker(logctx.WithTrace(context.Background(), nasty, nasty), nasty), func() OrderRejected {
			return OrderRejected{Base: event.Error(nasty).WithErr(errors.New(nasty)).WithReason(nasty).WithWarning(nasty),
				Path: nasty, Method: nasty, Tenant: nasty, OrderID: nasty, Customer: nasty, Source: nasty,
				Items: -42, Amount: -0.5, Elapsed: -time.Hour}
		}},
		{"long strings are cut", context.Background(), func() OrderRejected {
			ev := benchEvent()
			ev.Tenant = strings.Repeat("é", floorMaxString/2+3)
			ev.Source = strings.Repeat("x", floorMaxString+1)
			return ev
		}},
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-7, 1e-6, 1e20,
		1e21, -1e21, 5e-324, math.MaxFloat64, 0.1 + 0.2, 123456789.125} {
		cases = append(cases, struct {
			name string
			ctx  context.Context
			ev   func() OrderRejected
		}{"float " + strings.ReplaceAll(strings.ReplaceAll(jsonOrText(x), "+", "p"), "-", "m"), context.Background(), func() OrderRejected {
			ev := benchEvent()
			ev.Amount = x
			return ev
		}})
	}
	for _, cfg := range []sideConfig{
		{Service: "orders-etl", Version: "1.4.2", Environment: "prod"},
		{Service: "orders \"etl\"\n\xff", Hostname: "host\x01é"},
		{Service: "s", Environment: "e", Hostname: "h"},
	} {
		log, pl, f, fl := twoSides(t, cfg)
		for _, c := range cases {
			t.Run(strings.ReplaceAll(cfg.Service, "\n", "")+"/"+c.name, func(t *testing.T) {
				compareLines(t, log, pl, f, fl, c.ctx, c.ev())
			})
		}
	}
}

func jsonOrText(x float64) string {
	b, err := json.Marshal(x)
	if err != nil {
		return "nonfinite"
	}
	return string(b)
}

// TestFloorMatchesPipelogRandom compares the two on random strings drawn
// from bytes that need every kind of treatment.
func TestFloorMatchesPipelogRandom(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\x00", "\x1f", "\n", "\t", "\x7f", "é", "世", "🙂",
		"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\u2028", "/", "<"}
	r := rand.New(rand.NewPCG(8, 2026))
	str := func() string {
		var b strings.Builder
		for range r.IntN(24) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	log, pl, f, fl := twoSides(t, sideConfig{Service: "orders-etl", Version: "1.4.2", Environment: "prod"})
	for range 2000 {
		ctx := logctx.WithWorker(logctx.WithTrace(context.Background(), str(), str()), str())
		ev := OrderRejected{Base: event.Warn(str()).WithErr(errors.New(str())).WithReason(str()),
			Path: str(), Method: str(), Tenant: str(), OrderID: str(), Customer: str(), Source: str(),
			Items: int(r.Int64()), Amount: r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)),
			Retry: r.IntN(2) == 0, Elapsed: time.Duration(r.Int64())}
		compareLines(t, log, pl, f, fl, ctx, ev)
	}
}

// TestFloorEventIDs checks that the floor mints distinct, pipelog-shaped
// IDs: the comparisons above zero them.
func TestFloorEventIDs(t *testing.T) {
	_, _, f, fl := twoSides(t, sideConfig{Service: "s"})
	seen := map[string]bool{}
	for range 1000 {
		emitFloor(benchContext(), f)
	}
	for _, line := range fl.lines {
		_, id := normaliseID(t, line)
		if seen[id] {
			t.Fatalf("event.id %s minted twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d IDs for 1000 lines", len(seen))
	}
}

// TestFloorTimestamp checks @timestamp across second boundaries (the cache)
// and outside the years RFC 3339 can express.
func TestFloorTimestamp(t *testing.T) {
	f := newFloor(floorConfig{Service: "s", Sink: sink.NewWriter(&bytes.Buffer{}, sink.WriterConfig{})})
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 26, 23, 59, 59, 999999999, time.UTC), `"2026-11-26T23:59:59.999999Z"`},
		{time.Date(2026, 11, 27, 0, 0, 0, 1000, time.UTC), `"2026-11-27T00:00:00.000001Z"`},
		{time.Date(2026, 11, 27, 0, 0, 0, 999, time.UTC), `"2026-11-27T00:00:00.000000Z"`},
		{time.Date(2026, 11, 27, 1, 0, 0, 5000, time.FixedZone("CET", 3600)), `"2026-11-27T00:00:00.000005Z"`},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), `"9999-12-31T23:59:59.999999Z"`},
		{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), `"0000-01-01T00:00:00.000000Z"`},
		{time.Date(2026, 11, 27, 0, 0, 0, 2000, time.UTC), `"2026-11-27T00:00:00.000002Z"`},
	} {
		if got := string(f.appendNow(nil, c.t)); got != c.want {
			t.Errorf("appendNow(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}
