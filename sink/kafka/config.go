package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/pipelog/pipelog/sink"
)

// Config configures a Kafka sink. The zero value of every field selects the
// documented default.
type Config struct {
	// Brokers are the seed brokers, host:port. Default: the comma-separated
	// KAFKA_BROKERS, else localhost:9092.
	Brokers []string
	// Topic every record goes to. Default "logs".
	Topic string
	// KeyField is the dotted path of the line's field whose value keys the
	// record (records with the same key go to the same partition, in
	// order): "service.name", "labels.tenant". Default "event.id", which
	// spreads events over the partitions. A line without the field gets a
	// null key.
	KeyField string

	// Security. TLS is off unless EnableTLS, CACert or TLS is set; it then
	// verifies the brokers' certificates against the system roots, or
	// against CACert (PEM). TLS, when set, is used as given (cloned).
	// SASLMechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512" (""
	// means PLAIN when Username is set). Credentials never appear in an
	// error, a dead letter or Stats.
	EnableTLS     bool
	CACert        []byte
	TLS           *tls.Config
	SASLMechanism string
	Username      string
	Password      string

	// Producing (franz-go's idempotent producer, acks from all in-sync
	// replicas). Records wait up to Linger (default 10ms) to fill a batch
	// of at most MaxBatchBytes per partition (default 1,000,012, franz-go's
	// and just under Kafka's message.max.bytes; a record larger than this
	// alone is dead-lettered without being sent). Compression is "snappy"
	// (default), "lz4", "zstd", "gzip" or "none".
	Linger        time.Duration
	MaxBatchBytes int32
	Compression   string

	// Queue. Everything accepted and not yet delivered or dead-lettered
	// counts against MaxQueueBytes (default 64 MiB) and MaxQueueEvents
	// (default 250000). When full, Write drops the event at once (counted,
	// reported at most once a second, ErrQueueFull returned); with
	// QueueFullTimeout > 0 it first waits that long for room; with
	// BlockWhenFull it waits until there is room or the sink closes. As for
	// the Elasticsearch sink, the default never stalls a caller: a log call
	// that waited would turn the cluster's outage into the application's.
	MaxQueueBytes    int64
	MaxQueueEvents   int
	QueueFullTimeout time.Duration
	BlockWhenFull    bool

	// Retries. franz-go retries every retriable error (a broker down or
	// restarting, a leader moving, a timeout) itself, without limit while
	// the sink is open, keeping order and the idempotent sequence: an
	// unreachable cluster fills the queue (see Queue above). A
	// record franz-go gives up on with a retriable error (a topic that
	// stays unknown after UnknownTopicRetries metadata loads, default 4)
	// is produced again by the sink MaxRetries times (default 5;
	// negative: never) after a backoff from RetryBackoffMin (100ms) to
	// RetryBackoffMax (30s), then dead-lettered. A non-retriable error
	// (too large, invalid record, not authorized) dead-letters at once.
	MaxRetries          int
	UnknownTopicRetries int
	RetryBackoffMin     time.Duration
	RetryBackoffMax     time.Duration

	// DeadLetter receives, as NDJSON, each event that could not be
	// delivered: {"@timestamp":..,"error":{"type":..,"reason":..},
	// "topic":..,"key":..,"attempts":..,"document":<original>} (an invalid
	// line is kept as the string "document_raw"). Default: a
	// sink.DeadLetterFile at DeadLetterPath (default
	// sink.DefaultDeadLetterPath()), closed by Close; a caller-supplied
	// sink is not closed.
	DeadLetter     sink.Sink
	DeadLetterPath string

	// OnError receives every error the sink cannot return from Write:
	// delivery failures, dead letters, drops. Default: print to standard
	// error. It is called from the sink's goroutines and must be safe for
	// concurrent use.
	OnError func(error)

	// ClientOptions are appended to the franz-go options the sink builds,
	// for what Config does not cover (a custom dialer, a client ID). An
	// option that turns off idempotence or changes the acks voids the
	// exactly-once promise.
	ClientOptions []kgo.Opt
}

var (
	// ErrQueueFull is returned by Write when the event was dropped.
	ErrQueueFull = errors.New("sink: kafka: queue full, event dropped")
	// ErrInvalidLine is returned by Write for a line that is not one JSON
	// object; the line goes to the dead letter.
	ErrInvalidLine = errors.New("sink: kafka: invalid line")
)

// setDefaults replaces every zero field with its documented default.
func (cfg *Config) setDefaults() {
	if len(cfg.Brokers) == 0 {
		if env := os.Getenv("KAFKA_BROKERS"); env != "" {
			for b := range strings.SplitSeq(env, ",") {
				if b = strings.TrimSpace(b); b != "" {
					cfg.Brokers = append(cfg.Brokers, b)
				}
			}
		}
		if len(cfg.Brokers) == 0 {
			cfg.Brokers = []string{"localhost:9092"}
		}
	}
	if cfg.Topic == "" {
		cfg.Topic = "logs"
	}
	if cfg.KeyField == "" {
		cfg.KeyField = "event.id"
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 10 * time.Millisecond
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 1_000_012
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = 64 << 20
	}
	if cfg.MaxQueueEvents <= 0 {
		cfg.MaxQueueEvents = 250000
	}
	if cfg.QueueFullTimeout == 0 {
		cfg.QueueFullTimeout = -1 // drop at once
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.UnknownTopicRetries <= 0 {
		cfg.UnknownTopicRetries = 4
	}
	if cfg.RetryBackoffMin <= 0 {
		cfg.RetryBackoffMin = 100 * time.Millisecond
	}
	if cfg.RetryBackoffMax <= 0 {
		cfg.RetryBackoffMax = 30 * time.Second
	}
}

// clientOptions translates cfg into franz-go options.
func (cfg *Config) clientOptions(hooks kgo.Hook) ([]kgo.Opt, error) {
	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	if !validTopic(cfg.Topic) {
		return nil, fmt.Errorf("sink: kafka: invalid topic name %q (Kafka allows up to 249 of a-z A-Z 0-9 . _ -, not . or .. alone)", cfg.Topic)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(cfg.Linger),
		kgo.ProducerBatchMaxBytes(cfg.MaxBatchBytes),
		kgo.ProducerBatchCompression(codec),
		kgo.UnknownTopicRetries(cfg.UnknownTopicRetries),
		// The sink bounds its own queue; franz-go's buffer is sized so that
		// it never blocks a Write nor refuses a record the sink accepted.
		kgo.MaxBufferedRecords(cfg.MaxQueueEvents + 1),
		kgo.MaxBufferedBytes(int(min(cfg.MaxQueueBytes, 1<<40)) + int(cfg.MaxBatchBytes)),
		kgo.DisableClientMetrics(),
		kgo.WithHooks(hooks),
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	mech, err := cfg.sasl()
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return append(opts, cfg.ClientOptions...), nil
}

func validTopic(t string) bool {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func compression(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "none":
		return kgo.NoCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("sink: kafka: unknown compression %q (want snappy, lz4, zstd, gzip or none)", name)
}

func (cfg *Config) tlsConfig() (*tls.Config, error) {
	if cfg.TLS != nil {
		return cfg.TLS.Clone(), nil
	}
	if !cfg.EnableTLS && len(cfg.CACert) == 0 {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cfg.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACert) {
			return nil, errors.New("sink: kafka: CACert holds no PEM certificate")
		}
		c.RootCAs = pool
	}
	return c, nil
}

func (cfg *Config) sasl() (sasl.Mechanism, error) {
	if cfg.Username == "" && cfg.Password == "" && cfg.SASLMechanism == "" {
		return nil, nil
	}
	user, pass := cfg.Username, cfg.Password
	switch strings.ToUpper(cfg.SASLMechanism) {
	case "", "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sink: kafka: unknown SASL mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", cfg.SASLMechanism)
}
