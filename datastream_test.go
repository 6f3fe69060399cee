package pipelog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

type dsEvent struct {
	event.Base
	N int
}

func TestDataStreamFields(t *testing.T) {
	for _, c := range []struct {
		name                    string
		cfg                     pipelog.Config
		dataset, typ, ds, ns    string
		noDataStream            bool
		fieldsOverride          bool
		wantDataset, wantStream string
	}{
		{name: "off: event.dataset is the sanitised service", cfg: pipelog.Config{Service: "Orders-ETL"},
			wantDataset: "orders_etl", noDataStream: true},
		{name: "explicit dataset, sanitised", cfg: pipelog.Config{Service: "svc", Dataset: "orders-etl.alerts"},
			wantDataset: "orders_etl.alerts", noDataStream: true},
		{name: "data stream from the service", cfg: pipelog.Config{Service: "orders-etl", DataStream: &pipelog.DataStream{}},
			wantDataset: "orders_etl", wantStream: "logs/orders_etl/default"},
		{name: "data stream's dataset is event.dataset", cfg: pipelog.Config{Service: "svc", DataStream: &pipelog.DataStream{Dataset: "orders-etl", Namespace: "Prod"}},
			wantDataset: "orders_etl", wantStream: "logs/orders_etl/prod"},
		{name: "Config.Dataset wins for both", cfg: pipelog.Config{Service: "svc", Dataset: "jobs", DataStream: &pipelog.DataStream{Type: "logs"}},
			wantDataset: "jobs", wantStream: "logs/jobs/default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			log, mem, errs := testlog.Logger(t, c.cfg)
			pipelog.Emit(context.Background(), log, dsEvent{Base: event.Info("x")})
			_ = log.Close(context.Background())
			lines := testlog.Lines(t, mem)
			if len(lines) != 1 || len(errs()) != 0 {
				t.Fatalf("%d lines, errors %v", len(lines), errs())
			}
			testlog.WantAt(t, lines[0], "event.dataset", c.wantDataset)
			if c.noDataStream {
				testlog.WantAbsent(t, lines[0], "data_stream")
				return
			}
			parts := strings.Split(c.wantStream, "/")
			testlog.WantAt(t, lines[0], "data_stream.type", parts[0])
			testlog.WantAt(t, lines[0], "data_stream.dataset", parts[1])
			testlog.WantAt(t, lines[0], "data_stream.namespace", parts[2])
		})
	}
}

func TestDataStreamFieldsGiveWayToConfigFields(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{Service: "svc", DataStream: &pipelog.DataStream{},
		Fields: []pipelog.Field{{Key: "data_stream.namespace", Value: "blue"}}})
	pipelog.Emit(context.Background(), log, dsEvent{Base: event.Info("x")})
	_ = log.Close(context.Background())
	testlog.WantAt(t, testlog.Lines(t, mem)[0], "data_stream.namespace", "blue")
}

// A sink writing to another data stream than Config.DataStream names would
// get documents whose constant_keyword data_stream.* its index refuses.
func TestDataStreamMustMatchTheSink(t *testing.T) {
	es, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{"http://127.0.0.1:1"}, Dataset: "orders_etl",
		DeadLetter: &memsink.Sink{}, OnError: func(error) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close(context.Background())
	mem := &memsink.Sink{}
	inner := sink.Multi(mem, sink.MinLevel(es, event.LevelError))
	_, err = pipelog.New(pipelog.Config{Service: "svc", Sinks: []sink.Sink{inner}, DataStream: &pipelog.DataStream{Dataset: "other"}})
	if err == nil || !strings.Contains(err.Error(), "logs-orders_etl-default") || !strings.Contains(err.Error(), "logs-other-default") {
		t.Fatalf("mismatch not refused: %v", err)
	}
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{inner}, DataStream: &pipelog.DataStream{}})
	if err != nil {
		t.Fatalf("matching data stream refused: %v", err)
	}
	_ = log.Close(context.Background())
}

// TestAllocEmitWithDataStream: data_stream.* are fixed fields, encoded
// once; Emit still allocates nothing.
func TestAllocEmitWithDataStream(t *testing.T) {
	testlog.SkipUnderRace(t)
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", DataStream: &pipelog.DataStream{},
		Sinks: []sink.Sink{sink.NewWriter(testlog.Discard{}, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close(context.Background())
	ctx := context.Background()
	ev := dsEvent{Base: event.Info("x"), N: 3}
	pipelog.Emit(ctx, log, ev)
	if n := testing.AllocsPerRun(200, func() { pipelog.Emit(ctx, log, ev) }); n != 0 {
		t.Fatalf("%v allocations per Emit", n)
	}
}

// BenchmarkEmitDataStream: the cost of Config.DataStream per event (three
// fixed fields, pre-encoded) side by side with none.
func BenchmarkEmitDataStream(b *testing.B) {
	for _, c := range []struct {
		name string
		ds   *pipelog.DataStream
	}{{"off", nil}, {"on", &pipelog.DataStream{}}} {
		b.Run(c.name, func(b *testing.B) {
			log, err := pipelog.New(pipelog.Config{Service: "orders-etl", DataStream: c.ds,
				Sinks: []sink.Sink{sink.NewWriter(testlog.Discard{}, sink.WriterConfig{})}})
			if err != nil {
				b.Fatal(err)
			}
			defer log.Close(context.Background())
			ctx := context.Background()
			ev := dsEvent{Base: event.Info("order rejected"), N: 3}
			b.ReportAllocs()
			for b.Loop() {
				pipelog.Emit(ctx, log, ev)
			}
		})
	}
}
