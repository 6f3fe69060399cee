package main

// The Kafka path: the same producer and consumer as over RabbitMQ, with the
// trace context in the records' headers (package context/logkafka), and,
// with -log-topic, the services' own events shipped to a Kafka topic by
// sink/kafka as well as written to standard output: the topic a Logstash
// or Elastic Agent pipeline would read into Elasticsearch.
//
//	go run . -transport kafka -brokers 127.0.0.1:9092 -topic orders -log-topic logs -n 5

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/context/logkafka"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/kafka"
)

// publishKafka produces n orders to topic, each with its own span (a child
// of ctx's) stamped into the record's headers.
func publishKafka(ctx context.Context, log *pipelog.Logger, cl *kgo.Client, topic string, n int) error {
	parent := logctx.SpanID(ctx)
	for i := range n {
		msgCtx := logctx.WithTrace(ctx, logctx.TraceID(ctx), logctx.NewSpanID())
		id := "order-" + strconv.Itoa(i+1)
		rec := &kgo.Record{Topic: topic, Key: []byte(id), Value: []byte(`{"order":"` + id + `"}`)}
		logkafka.Inject(msgCtx, rec)
		if err := cl.ProduceSync(msgCtx, rec).FirstErr(); err != nil {
			return fmt.Errorf("produce %s: %w", id, err)
		}
		pipelog.Emit(msgCtx, log, OrderPublished{Base: event.Info("order published"), Queue: topic, MessageID: id, ParentSpanID: parent})
	}
	return nil
}

// consumeKafka handles records until n were handled or ctx ends.
func consumeKafka(ctx context.Context, log *pipelog.Logger, cl *kgo.Client, topic string, n int) error {
	ctx = logctx.WithWorker(ctx, "consumer-1")
	handled := 0
	for handled < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consumed %d of %d records: %w", handled, n, err)
		}
		for _, fe := range fs.Errors() {
			return fmt.Errorf("fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			msgCtx := logkafka.Extract(ctx, r)
			pipelog.Emit(msgCtx, log, OrderConsumed{
				Base:  event.Info("order consumed"),
				Queue: topic, MessageID: string(r.Key), ParentSpanID: logctx.ParentSpanID(msgCtx),
				ConsumerWorker: logctx.Worker(msgCtx),
			})
			handled++
		})
	}
	return nil
}

// kafkaConfig of one run over Kafka.
type kafkaConfig struct {
	brokers         []string
	topic, logTopic string
	n               int
	timeout         time.Duration
}

// runKafka starts the consumer, produces n orders as a pipelog job and
// waits until the consumer has handled them. Both services' events go to
// out and, with logTopic, to that Kafka topic. It returns the job's exit
// code.
func runKafka(cfg kafkaConfig, out io.Writer) (int, error) {
	prod, err := kgo.NewClient(kgo.SeedBrokers(cfg.brokers...))
	if err != nil {
		return 1, err
	}
	defer prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(cfg.brokers...), kgo.ConsumeTopics(cfg.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 1, err
	}
	defer cons.Close()

	var shared sink.Sink = sink.NewWriter(out, sink.WriterConfig{})
	if cfg.logTopic != "" {
		ks, err := kafka.New(kafka.Config{Brokers: cfg.brokers, Topic: cfg.logTopic, KeyField: "trace.id"}) // a run's events in one partition, in order
		if err != nil {
			return 1, err
		}
		shared = sink.Multi(shared, ks)
	}
	return runServices(shared, cfg.timeout,
		func(ctx context.Context, log *pipelog.Logger) error {
			return publishKafka(ctx, log, prod, cfg.topic, cfg.n)
		},
		func(ctx context.Context, log *pipelog.Logger) error {
			return consumeKafka(ctx, log, cons, cfg.topic, cfg.n)
		})
}
