package kafka_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/kafka"
)

var bench struct {
	once    sync.Once
	cluster *kfake.Cluster
	entries []sink.Entry
}

// benchSetup starts one kfake cluster for all benchmarks and encodes 1024
// lines with a Logger (trace and correlation in the context, as in a
// service), kept as the entries a Logger hands a sink.
func benchSetup(b *testing.B) {
	bench.once.Do(func() {
		c, err := kfake.NewCluster(kfake.SeedTopics(3, "bench"))
		if err != nil {
			b.Fatal(err)
		}
		bench.cluster = c
		mem := &memsink.Sink{}
		log, err := pipelog.New(pipelog.Config{Service: "bench", Sinks: []sink.Sink{mem}})
		if err != nil {
			b.Fatal(err)
		}
		ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
		for i := range 1024 {
			pipelog.Emit(ctx, log, RowLoaded{Base: event.Info("row loaded"), Seq: i, Tenant: "acme"})
		}
		_ = log.Close(context.Background())
		for _, l := range mem.Lines() {
			id := l[bytes.Index(l, []byte(`"id":"`))+6:]
			// What the Logger hands WriteEntry: the trace fields of ctx too.
			bench.entries = append(bench.entries, sink.Entry{Line: l, ID: id[:32], Level: event.LevelInfo,
				Traced: true, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"})
		}
	})
}

// BenchmarkProduce compares the sink with franz-go producing the same
// records, prebuilt (value, key, the two headers), with the same producer
// settings: the ceiling the sink's per-event work is measured against. One
// op is one event, acknowledged (each run ends with a flush).
func BenchmarkProduce(b *testing.B) {
	benchSetup(b)
	brokers := bench.cluster.ListenAddrs()
	b.Run("sink", func(b *testing.B) {
		s, err := kafka.New(kafka.Config{Brokers: brokers, Topic: "bench", DeadLetter: &memsink.Sink{}, BlockWhenFull: true})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close(context.Background())
		n := len(bench.entries)
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		base := s.Stats().Delivered
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		for i := range b.N {
			if err := s.WriteEntry(&bench.entries[i%n]); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		reportCPU(b, cpu)
		if st := s.Stats(); st.Delivered-base < int64(b.N) {
			b.Fatalf("delivered %d of %d", st.Delivered, b.N)
		}
	})
	b.Run("franz-go", func(b *testing.B) { produceDirect(b, brokers, false) })
	// franz-go-copy copies each line and key into a fresh record in the
	// loop, as any sink must (it may not keep the caller's bytes): the
	// floor of a sink's own work.
	b.Run("franz-go-copy", func(b *testing.B) { produceDirect(b, brokers, true) })
}

func produceDirect(b *testing.B, brokers []string, copyEach bool) {
	{
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("bench"),
			kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(10*time.Millisecond),
			kgo.ProducerBatchCompression(kgo.SnappyCompression()), kgo.MaxBufferedRecords(250001),
			kgo.DisableClientMetrics())
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		recs := make([]kgo.Record, b.N)
		for i := range recs {
			if copyEach {
				break
			}
			e := &bench.entries[i%len(bench.entries)]
			recs[i] = kgo.Record{
				Value: e.Line[:len(e.Line)-1], Key: e.ID,
				Headers: []kgo.RecordHeader{
					{Key: kafka.HeaderTraceparent, Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")},
					{Key: kafka.HeaderCorrelationID, Value: []byte("4bf92f3577b34da6a3ce929d0e0e4736")},
				},
			}
		}
		var done, failed atomic.Int64
		promise := func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
			}
			done.Add(1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		for i := range recs {
			r := &recs[i]
			if copyEach {
				e := &bench.entries[i%len(bench.entries)]
				buf := make([]byte, 0, len(e.Line)+len(e.ID)+87)
				buf = append(buf, e.Line[:len(e.Line)-1]...)
				buf = append(buf, e.ID...)
				r = &kgo.Record{Value: buf[:len(e.Line)-1], Key: buf[len(e.Line)-1:], Headers: []kgo.RecordHeader{
					{Key: kafka.HeaderTraceparent, Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")},
					{Key: kafka.HeaderCorrelationID, Value: []byte("4bf92f3577b34da6a3ce929d0e0e4736")},
				}}
			}
			cl.Produce(context.Background(), r, promise)
		}
		if err := cl.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		reportCPU(b, cpu)
		if failed.Load() > 0 || done.Load() != int64(b.N) {
			b.Fatalf("%d failed, %d done of %d", failed.Load(), done.Load(), b.N)
		}
	}
}

// cpuTime is the CPU time the process used so far (user and system, every
// goroutine: the producer, franz-go and the in-process broker).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per op since start as
// cpu-ns/op. On a shared machine, where the wall time swings with the
// others' load, it is the steadier figure of the work an event costs.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}
