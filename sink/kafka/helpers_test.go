package kafka_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/kafka"
)

// RowLoaded is the event the tests write; Seq orders them.
type RowLoaded struct {
	event.Base
	Seq    int    `json:"seq"`
	Tenant string `json:"tenant,omitempty"`
	Pad    string `json:"pad,omitempty"`
}

// newCluster starts an in-process Kafka (kfake) and stops it with the test.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newSink makes a sink on c with a fast retry schedule and a dead letter in
// memory, closed with the test (a test may close it first).
func newSink(t testing.TB, brokers []string, cfg kafka.Config) (*kafka.Sink, *memsink.Sink, *errLog) {
	t.Helper()
	dl := &memsink.Sink{}
	errs := &errLog{}
	cfg.Brokers = brokers
	if cfg.Topic == "" {
		cfg.Topic = "logs"
	}
	cfg.DeadLetter = dl
	cfg.OnError = errs.add
	if cfg.RetryBackoffMin == 0 {
		cfg.RetryBackoffMin = 10 * time.Millisecond
	}
	if cfg.RetryBackoffMax == 0 {
		cfg.RetryBackoffMax = 50 * time.Millisecond
	}
	cfg.ClientOptions = append(cfg.ClientOptions, kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	s, err := kafka.New(cfg)
	if err != nil {
		t.Fatalf("kafka.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s, dl, errs
}

// newLogger writes to s.
func newLogger(t testing.TB, s sink.Sink) *pipelog.Logger {
	t.Helper()
	log, err := pipelog.New(pipelog.Config{Service: "loader", Sinks: []sink.Sink{s}})
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// consumed is one record read back, decoded.
type consumed struct {
	partition int32
	offset    int64
	key       string
	headers   map[string]string
	seq       int
	doc       map[string]any
}

// consume reads want records of topic from the start, failing the test if
// they do not all arrive within the deadline, and then waits a little for
// records that should not be there.
func consume(t testing.TB, brokers []string, topic string, want int) []consumed {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		// A consumer started right after a broker restart may first see the
		// topic without its partitions; refresh metadata often, not after
		// the default five minutes.
		kgo.MetadataMaxAge(250*time.Millisecond), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []consumed
	deadline := time.Now().Add(20 * time.Second)
	extra := time.Time{}
	lastErr := ""
	for {
		if len(out) >= want && extra.IsZero() {
			extra = time.Now().Add(300 * time.Millisecond)
		}
		if (!extra.IsZero() && time.Now().After(extra)) || time.Now().After(deadline) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) && e.Err.Error() != lastErr {
				lastErr = e.Err.Error()
				t.Logf("consume %s[%d]: %v", e.Topic, e.Partition, e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			c := consumed{partition: r.Partition, offset: r.Offset, key: string(r.Key), headers: map[string]string{}}
			for _, h := range r.Headers {
				c.headers[h.Key] = string(h.Value)
			}
			if err := json.Unmarshal(r.Value, &c.doc); err != nil {
				t.Errorf("record value is not JSON: %v: %q", err, r.Value)
			}
			if bytes.HasSuffix(r.Value, []byte("\n")) {
				t.Errorf("record value ends in a newline: %q", r.Value)
			}
			c.seq = seqOf(c.doc)
			out = append(out, c)
		})
	}
	if len(out) < want {
		perPartition := map[int32]int{}
		for _, c := range out {
			perPartition[c.partition]++
		}
		t.Fatalf("consumed %d records of %s, want %d (per partition: %v)", len(out), topic, want, perPartition)
	}
	return out
}

// checkExactlyOnceInOrder fails t unless recs hold seq 0..n-1 once each,
// increasing within each partition.
func checkExactlyOnceInOrder(t testing.TB, recs []consumed, n int) {
	t.Helper()
	seen := make([]int, n)
	last := map[int32]int{}
	for _, r := range recs {
		if r.seq < 0 || r.seq >= n {
			t.Fatalf("unexpected seq %d", r.seq)
		}
		seen[r.seq]++
		if p, ok := last[r.partition]; ok && r.seq <= p {
			t.Errorf("partition %d: seq %d after %d", r.partition, r.seq, p)
		}
		last[r.partition] = r.seq
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("seq %d arrived %d times", i, c)
		}
	}
	if len(recs) != n {
		t.Errorf("%d records, want %d", len(recs), n)
	}
}

// deadLines decodes the dead letter.
func deadLines(t testing.TB, dl *memsink.Sink) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range dl.Lines() {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("dead letter line is not JSON: %v: %q", err, l)
		}
		out = append(out, m)
	}
	return out
}

func errType(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func errReason(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["reason"].(string)
	return s
}

// errLog collects OnError reports.
type errLog struct {
	mu   sync.Mutex
	errs []string
}

func (e *errLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err.Error())
}

func (e *errLog) all() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.errs, "\n")
}

func itoa(i int) string { return strconv.Itoa(i) }

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// seqOf is the Seq of a RowLoaded line (Pipelog.RowLoaded.seq), or -1.
func seqOf(doc map[string]any) int {
	p, _ := doc["Pipelog"].(map[string]any)
	r, _ := p["RowLoaded"].(map[string]any)
	if s, ok := r["seq"].(float64); ok {
		return int(s)
	}
	return -1
}
