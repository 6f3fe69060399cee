package elasticsearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memSink is an in-memory dead letter.
type memSink struct {
	mu    sync.Mutex
	lines [][]byte
}

func (m *memSink) Write(p []byte) error {
	m.mu.Lock()
	m.lines = append(m.lines, append([]byte(nil), p...))
	m.mu.Unlock()
	return nil
}

func (m *memSink) Flush(context.Context) error { return nil }

func (m *memSink) Close(context.Context) error { return nil }

type dlEntry struct {
	Status int `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Attempts    int             `json:"attempts"`
	Document    json.RawMessage `json:"document"`
	DocumentRaw string          `json:"document_raw"`
}

// entries parses the dead letter, keyed by the document's event.id.
func (m *memSink) entries(t *testing.T) map[string]dlEntry {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]dlEntry{}
	for _, l := range m.lines {
		require.True(t, strings.HasSuffix(string(l), "\n"), "dead letter line must end with a newline")
		var e dlEntry
		require.NoError(t, json.Unmarshal(l, &e), "dead letter line is JSON: %s", l)
		key := e.ID
		if len(e.Document) > 0 {
			var d struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			}
			require.NoError(t, json.Unmarshal(e.Document, &d))
			if d.Event.ID != "" {
				key = d.Event.ID
			}
		}
		_, dup := out[key]
		require.False(t, dup, "event %s dead-lettered twice", key)
		out[key] = e
	}
	return out
}

type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errLog) joined() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

func testDoc(run string, i int) []byte {
	return fmt.Appendf(nil, `{"@timestamp":"2026-11-26T01:02:03.%06dZ","log.level":"info","message":"request %d served \"ok\"","ecs.version":"9.4.0","event":{"dataset":"x","id":"%s-%06d"},"labels":{"run":"%s"},"http":{"request":{"method":"GET"},"response":{"status_code":200}},"url":{"path":"/api/v1/items/%d"}}`+"\n", i%1000000, i, run, i, run, i)
}

func testID(run string, i int) string { return fmt.Sprintf("%s-%06d", run, i) }

// fastConfig is a config with short timings for tests.
func fastConfig(addr string, dl sink.Sink, el *errLog) Config {
	return Config{
		Addresses:       []string{addr},
		Dataset:         "Test.App",
		Namespace:       "ci",
		FlushEvents:     50,
		FlushInterval:   20 * time.Millisecond,
		Workers:         2,
		RetryBackoffMin: time.Millisecond,
		RetryBackoffMax: 20 * time.Millisecond,
		RequestTimeout:  5 * time.Second,
		DeadLetter:      dl,
		OnError:         el.add,
	}
}

// reconcile checks that every id is indexed exactly once in the fake or is
// in the dead letter with a reason, and that nothing malformed was sent.
func reconcile(t *testing.T, fake *esfake.Server, dl *memSink, ids []string) (indexed, dead int) {
	t.Helper()
	stored := fake.IDs()
	dls := dl.entries(t)
	missing := 0
	for _, id := range ids {
		_, inDL := dls[id]
		if stored[id] {
			indexed++
		}
		if inDL {
			dead++
			assert.NotEmpty(t, dls[id].Error.Reason, "dead letter for %s has a reason", id)
			assert.NotEmpty(t, dls[id].Error.Type, "dead letter for %s has a type", id)
		}
		if !stored[id] && !inDL {
			missing++
		}
	}
	fs := fake.Stats()
	assert.Zero(t, missing, "events neither indexed nor dead-lettered")
	assert.Zero(t, fs.DoubleCreates, "an _id was created twice")
	assert.Zero(t, fs.Malformed, "malformed document lines sent")
	assert.Zero(t, fs.BadAction, "bad action lines sent")
	assert.Zero(t, fs.BadContentType, "requests without Content-Type application/x-ndjson")
	return indexed, dead
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// writePaths are the two ways into the sink: Write parses the line for its
// event.id, WriteEntry is handed it, as by a Logger.
var writePaths = []struct {
	name  string
	write func(s *Sink, line []byte, id string) error
}{
	{"Write", func(s *Sink, line []byte, _ string) error { return s.Write(line) }},
	{"WriteEntry", func(s *Sink, line []byte, id string) error {
		return s.WriteEntry(&sink.Entry{Line: line, ID: []byte(id)})
	}},
}

// cpuTime is the CPU time of the whole process so far (user + system,
// getrusage): on a shared machine a steadier figure than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
