package benchmarks

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/sink"
)

// zerolog writing pipelog's ECS document for OrderRejected, configured the
// way a user would: zerolog's field names and time format set for ECS, the
// static objects (service, host) and ecs.version in the logger's context,
// and every object that holds a value of the event (event, process, trace,
// span, http, error, url, Pipelog) a nested Dict per event, with event.id
// minted per event as pipelog mints it. Like the other peers, it is handed
// trace.id, span.id and the worker name as values instead of reading them
// from a context.
//
// zerolog fixes part of the top-level order: it writes the level first, then
// the context, then the event's fields, the timestamp hook and the message
// last. TestZerologECSMatchesPipelog checks that the line decodes to
// pipelog's object and that every nested object has pipelog's key order.

const ecsTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// zerologECSSettings sets zerolog's package-level field names and time
// format for ECS, as a user does once at start-up, until tb ends: other
// peers in this process (BenchmarkEvent/zerolog) use zerolog's defaults.
func zerologECSSettings(tb testing.TB, now func() time.Time) {
	level, ts, format, fn := zerolog.LevelFieldName, zerolog.TimestampFieldName, zerolog.TimeFieldFormat, zerolog.TimestampFunc
	tb.Cleanup(func() {
		zerolog.LevelFieldName, zerolog.TimestampFieldName, zerolog.TimeFieldFormat, zerolog.TimestampFunc = level, ts, format, fn
	})
	zerolog.LevelFieldName = "log.level"
	zerolog.TimestampFieldName = "@timestamp"
	zerolog.TimeFieldFormat = ecsTimeFormat
	zerolog.TimestampFunc = func() time.Time { return now().UTC() }
}

// zerologECS is the ECS logger.
type zerologECS struct {
	l   zerolog.Logger
	pid int
	ids floorIDs
}

func newZerologECS(tb testing.TB, w io.Writer, level zerolog.Level, now func() time.Time) *zerologECS {
	zerologECSSettings(tb, now)
	hostname, _ := os.Hostname()
	z := &zerologECS{pid: os.Getpid()}
	z.ids.init()
	z.l = zerolog.New(w).Level(level).With().Timestamp().
		Str("ecs.version", "9.4.0").
		Dict("service", zerolog.Dict().Str("name", "orders-etl").Str("version", "1.4.2").Str("environment", "prod")).
		Dict("host", zerolog.Dict().Str("hostname", hostname)).
		Logger()
	return z
}

// emit writes the benchmark's event: the same values as emitPipelog.
func (z *zerologECS) emit() {
	var id [32]byte
	err := errRejected
	z.l.Warn().
		Dict("event", zerolog.Dict().Str("action", "OrderRejected").Str("kind", "event").
			Bytes("id", z.ids.append(id[:0])).Str("dataset", "orders_etl").Str("reason", "credit")).
		Dict("process", zerolog.Dict().Int("pid", z.pid).Dict("thread", zerolog.Dict().Str("name", worker))).
		Dict("trace", zerolog.Dict().Str("id", traceID)).
		Dict("span", zerolog.Dict().Str("id", spanID)).
		Dict("http", zerolog.Dict().Dict("request", zerolog.Dict().Str("method", "POST"))).
		Dict("error", zerolog.Dict().Str("message", err.Error()).Str("type", reflect.TypeOf(err).String())).
		Dict("url", zerolog.Dict().Str("path", "/v1/orders")).
		Dict("Pipelog", zerolog.Dict().Dict("OrderRejected", zerolog.Dict().
			Str("Tenant", "acme").Str("OrderID", "ord-123456").Str("Customer", "cust-42").Int("Items", 3).
			Float64("Amount", 129.95).Bool("Retry", true).Int64("Elapsed", int64(1500*time.Microsecond)).
			Str("Source", "kafka"))).
		Msg("order rejected")
}

// TestZerologECSMatchesPipelog checks that zerolog-ecs writes pipelog's
// document: the same object once decoded, the same key order inside every
// nested object, and at the top level the order zerolog imposes.
func TestZerologECSMatchesPipelog(t *testing.T) {
	now := func() time.Time { return fixedNow }
	var pl, zl bytes.Buffer
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Environment: "prod", Version: "1.4.2",
		Now: now, Sinks: []sink.Sink{sink.NewWriter(&pl, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	emitPipelog(benchContext(), log)
	newZerologECS(t, &zl, zerolog.InfoLevel, now).emit()

	want, _ := normaliseID(t, pl.String())
	got, _ := normaliseID(t, zl.String())
	if !bytes.HasSuffix(zl.Bytes(), []byte("}\n")) || bytes.Count(zl.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("zerolog-ecs did not write one line: %q", zl.String())
	}
	if w, g := decodeLine(t, []byte(want)), decodeLine(t, []byte(got)); !reflect.DeepEqual(w, g) {
		t.Fatalf("decoded lines differ:\nzerolog-ecs: %s\npipelog:     %s", got, want)
	}
	wantKeys, gotKeys := objectKeys(t, want), objectKeys(t, got)
	for path, keys := range wantKeys {
		if path != "" && !slices.Equal(gotKeys[path], keys) {
			t.Errorf("keys of %s: zerolog-ecs %v, pipelog %v", path, gotKeys[path], keys)
		}
	}
	// zerolog writes its level first, then the logger's context, then the
	// event's fields, the timestamp (a hook) and the message.
	zerologOrder := []string{"log.level", "ecs.version", "service", "host", "event", "process", "trace", "span",
		"http", "error", "url", "Pipelog", "@timestamp", "message"}
	pipelogOrder := []string{"@timestamp", "log.level", "message", "ecs.version", "service", "event", "host",
		"process", "trace", "span", "http", "error", "url", "Pipelog"}
	if !slices.Equal(gotKeys[""], zerologOrder) || !slices.Equal(wantKeys[""], pipelogOrder) {
		t.Errorf("top-level keys:\nzerolog-ecs %v\npipelog     %v", gotKeys[""], wantKeys[""])
	}
}

// objectKeys lists the keys of every object of a line in order, by path
// ("" for the top level, "event", "Pipelog.OrderRejected"), failing on a key
// written twice.
func objectKeys(t *testing.T, line string) map[string][]string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(line)))
	keys := map[string][]string{}
	var walk func(path string)
	walk = func(path string) {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok != json.Delim('{') {
			return // a scalar (the benchmark's event has no arrays)
		}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := k.(string)
			if slices.Contains(keys[path], key) {
				t.Fatalf("key %q twice in %q: %s", key, path, line)
			}
			keys[path] = append(keys[path], key)
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			walk(sub)
		}
		if _, err := d.Token(); err != nil {
			t.Fatal(err)
		}
	}
	walk("")
	return keys
}
