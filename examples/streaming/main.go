// Command streaming shows correlation across a message broker: a producer
// publishes orders to a RabbitMQ queue, stamping each message's headers with
// its trace context (logctx.Inject through an amqp.Table carrier), and a
// consumer continues the trace from them (logctx.Extract), so both sides'
// events share one trace.id — the producer's run ID — and each consumed
// message's parent span is the span of its publication.
//
// With -transport kafka the same runs over Kafka (kafka.go): the trace
// context travels in the records' headers (context/logkafka), and with
// -log-topic both services' events are also produced to a Kafka topic by
// sink/kafka.
//
// This example is its own module so that the library's go.mod does not
// depend on a broker client.
//
//	go run . -url amqp://guest:guest@127.0.0.1:5672/ -n 5
//	go run . -transport kafka -brokers 127.0.0.1:9092 -topic orders -log-topic logs -n 5
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// TableCarrier adapts RabbitMQ message headers (amqp.Table) to
// logctx.Carrier. Values are stored as strings; Get also reads []byte
// values (some clients send header strings as byte arrays) and ignores any
// other type. Keys are matched exactly: AMQP header names are
// case-sensitive, and Inject writes the names Extract reads.
type TableCarrier amqp.Table

// Get implements logctx.Carrier.
func (t TableCarrier) Get(key string) string {
	switch v := t[key].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// Set implements logctx.Carrier.
func (t TableCarrier) Set(key, value string) { t[key] = value }

// Keys implements logctx.Carrier.
func (t TableCarrier) Keys() []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	return keys
}

var _ logctx.Carrier = TableCarrier(nil)

// OrderPublished is the producer's event per message.
type OrderPublished struct {
	event.Base
	Queue        string `json:"queue"`
	MessageID    string `json:"message_id"`
	ParentSpanID string `json:"parent_span_id,omitempty"`
}

// OrderConsumed is the consumer's event per message.
type OrderConsumed struct {
	event.Base
	Queue          string `json:"queue"`
	MessageID      string `json:"message_id"`
	ParentSpanID   string `json:"parent_span_id,omitempty"`
	Redelivered    bool   `json:"redelivered,omitempty"`
	ConsumerWorker string `json:"consumer"`
}

// publish sends n orders to queue on ch. Each message gets its own span (a
// child of ctx's span): the OrderPublished event is written with it and
// Inject puts it in the headers, so the consumer's parent is that span.
func publish(ctx context.Context, log *pipelog.Logger, ch *amqp.Channel, queue string, n int) error {
	parent := logctx.SpanID(ctx)
	for i := range n {
		msgCtx := logctx.WithTrace(ctx, logctx.TraceID(ctx), logctx.NewSpanID())
		headers := amqp.Table{}
		logctx.Inject(msgCtx, TableCarrier(headers))
		id := "order-" + strconv.Itoa(i+1)
		err := ch.PublishWithContext(msgCtx, "", queue, false, false, amqp.Publishing{
			Headers:       headers,
			ContentType:   "application/json",
			CorrelationId: logctx.CorrelationID(msgCtx),
			MessageId:     id,
			Timestamp:     time.Now(),
			Body:          []byte(`{"order":"` + id + `"}`),
		})
		if err != nil {
			return fmt.Errorf("publish %s: %w", id, err)
		}
		pipelog.Emit(msgCtx, log, OrderPublished{Base: event.Info("order published"), Queue: queue, MessageID: id, ParentSpanID: parent})
	}
	return nil
}

// consume handles deliveries until n messages were handled or ctx ends.
func consume(ctx context.Context, log *pipelog.Logger, deliveries <-chan amqp.Delivery, queue string, n int) error {
	ctx = logctx.WithWorker(ctx, "consumer-1")
	for handled := 0; handled < n; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("consumed %d of %d messages: %w", handled, n, ctx.Err())
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("consumed %d of %d messages: delivery channel closed", handled, n)
			}
			msgCtx := logctx.Extract(ctx, TableCarrier(d.Headers))
			pipelog.Emit(msgCtx, log, OrderConsumed{
				Base:  event.Info("order consumed"),
				Queue: queue, MessageID: d.MessageId, ParentSpanID: logctx.ParentSpanID(msgCtx),
				Redelivered:    d.Redelivered,
				ConsumerWorker: logctx.Worker(msgCtx),
			})
			if err := d.Ack(false); err != nil {
				return fmt.Errorf("ack %s: %w", d.MessageId, err)
			}
			handled++
		}
	}
	return nil
}

// config of one run.
type config struct {
	url, queue string
	n          int
	timeout    time.Duration
}

// run declares an auto-delete queue, starts the consumer, publishes n
// messages as a pipelog job and waits until the consumer has handled them.
// The producer's and consumer's events go to out. It returns the job's exit
// code (0 on success).
func run(cfg config, out io.Writer) (int, error) {
	conn, err := amqp.DialConfig(cfg.url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return 1, fmt.Errorf("connect to RabbitMQ: %w", err)
	}
	defer conn.Close()
	pubCh, err := conn.Channel()
	if err != nil {
		return 1, err
	}
	defer pubCh.Close()
	subCh, err := conn.Channel()
	if err != nil {
		return 1, err
	}
	defer subCh.Close()
	// Not durable, deleted when its consumer goes away.
	q, err := subCh.QueueDeclare(cfg.queue, false, true, false, false, nil)
	if err != nil {
		return 1, fmt.Errorf("declare queue: %w", err)
	}
	deliveries, err := subCh.Consume(q.Name, "pipelog-example", false, false, false, false, nil)
	if err != nil {
		return 1, fmt.Errorf("consume: %w", err)
	}

	return runServices(sink.NewWriter(out, sink.WriterConfig{}), cfg.timeout,
		func(ctx context.Context, log *pipelog.Logger) error { return publish(ctx, log, pubCh, q.Name, cfg.n) },
		func(ctx context.Context, log *pipelog.Logger) error {
			return consume(ctx, log, deliveries, q.Name, cfg.n)
		})
}

// runServices makes the producer's and the consumer's loggers on the shared
// sink, starts consume and runs publish as the pipelog job
// "publish-orders". It returns the job's exit code.
func runServices(shared sink.Sink, timeout time.Duration, publish, consume func(context.Context, *pipelog.Logger) error) (int, error) {
	producer, err := pipelog.New(pipelog.Config{Service: "order-producer", Sinks: []sink.Sink{shared}})
	if err != nil {
		return 1, err
	}
	consumer, err := pipelog.New(pipelog.Config{Service: "order-consumer", Sinks: []sink.Sink{shared}})
	if err != nil {
		return 1, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	consumed := make(chan error, 1)
	go func() { consumed <- consume(ctx, consumer) }()

	// RunJob closes the producer's logger (and so the shared sink) when it
	// returns: the consumer's events must be written before that, so the
	// job waits for the consumer too.
	code := pipelog.RunJob(ctx, producer, pipelog.Job{Name: "publish-orders", Run: func(ctx context.Context) error {
		if err := publish(ctx, producer); err != nil {
			return err
		}
		return <-consumed
	}})
	return code, consumer.Close(context.Background())
}

func main() {
	var cfg config
	var kcfg kafkaConfig
	transport := flag.String("transport", "amqp", "amqp (RabbitMQ) or kafka")
	flag.StringVar(&cfg.url, "url", envOr("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), "RabbitMQ URL (default $AMQP_URL)")
	flag.StringVar(&cfg.queue, "queue", "pipelog-example-"+randomHex(4), "queue name (auto-deleted)")
	brokers := flag.String("brokers", envOr("KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka brokers, comma-separated (default $KAFKA_BROKERS)")
	flag.StringVar(&kcfg.topic, "topic", "orders", "Kafka topic of the orders")
	flag.StringVar(&kcfg.logTopic, "log-topic", "", "Kafka topic the services' events are also produced to (none: stdout only)")
	flag.IntVar(&cfg.n, "n", 5, "messages to send")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after")
	flag.Parse()
	var code int
	var err error
	switch *transport {
	case "amqp":
		code, err = run(cfg, os.Stdout)
	case "kafka":
		kcfg.brokers = strings.Split(*brokers, ",")
		kcfg.n, kcfg.timeout = cfg.n, cfg.timeout
		code, err = runKafka(kcfg, os.Stdout)
	default:
		code, err = 2, fmt.Errorf("unknown -transport %q (want amqp or kafka)", *transport)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streaming:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed"))
	}
	return hex.EncodeToString(b)
}
