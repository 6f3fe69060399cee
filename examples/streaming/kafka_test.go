package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/context/logkafka"
)

// TestCorrelationThroughKafka runs the Kafka path against kfake, an
// in-process Kafka speaking the real protocol: the trace crosses in the
// record headers, and every event of both services also arrives on the
// log topic, keyed by the run's trace ID, with its trace in the headers.
func TestCorrelationThroughKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(2, "orders", "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out syncBuffer
	const n = 5
	code, err := runKafka(kafkaConfig{brokers: c.ListenAddrs(), topic: "orders", logTopic: "logs", n: n, timeout: 30 * time.Second}, &out)
	if err != nil || code != 0 {
		t.Fatalf("run: exit %d, %v\n%s", code, err, out.Bytes())
	}
	logs := out.Bytes()
	checkCorrelation(t, logs, n)

	want := bytes.Count(logs, []byte("\n"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("logs"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if len(recs) != want {
		t.Fatalf("%d records on the log topic, %d lines on stdout", len(recs), want)
	}
	parts := map[int32]bool{}
	for _, r := range recs {
		var m line
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("record value: %v", err)
		}
		trace, _ := m.Get("trace.id").(string)
		if string(r.Key) != trace {
			t.Errorf("record keyed %q, trace.id %q", r.Key, trace)
		}
		if got := logctx.TraceID(logkafka.Extract(context.Background(), r)); got != trace {
			t.Errorf("headers carry trace %q, line %q", got, trace)
		}
		parts[r.Partition] = true
	}
	if len(parts) != 1 {
		t.Errorf("one run's events over %d partitions, want 1 (keyed by trace.id)", len(parts))
	}
}
