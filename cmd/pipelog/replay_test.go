package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

// TestReplayDeadLetter: a dead-letter file is re-sent under its _ids; a
// second replay indexes nothing twice (409s); a line that never was JSON
// is skipped and makes the exit code 1.
func TestReplayDeadLetter(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "deadletter.ndjson")
	var dl bytes.Buffer
	for i := range 5 {
		fmt.Fprintf(&dl, `{"@timestamp":"2026-12-02T00:00:00Z","status":401,"error":{"type":"pipelog_permanent_failure","reason":"HTTP 401"},"_index":"logs-app-default","_id":"ev-%d","attempts":1,"document":{"@timestamp":"2026-12-02T00:00:00Z","message":"m%d","event":{"id":"ev-%d"}}}`+"\n", i, i, i)
	}
	dl.WriteString(`{"@timestamp":"2026-12-02T00:00:00Z","status":0,"error":{"type":"pipelog_invalid_line","reason":"bad"},"_index":"logs-app-default","attempts":0,"document_raw":"{oops"}` + "\n")
	require.NoError(t, os.WriteFile(path, dl.Bytes(), 0o640))

	var out, errb bytes.Buffer
	code := run([]string{"replay", "-url", fake.URL, path}, &out, &errb)
	assert.Equal(t, 1, code, "a skipped line is reported in the exit code: %s", errb.String())
	assert.Contains(t, out.String(), "5 event(s): 5 indexed, 0 already indexed (409), 0 failed again")
	assert.Contains(t, out.String(), "1 line(s) skipped")
	for i := range 5 {
		_, ok := fake.Doc(fmt.Sprintf("ev-%d", i))
		assert.True(t, ok, "ev-%d indexed under its _id", i)
	}
	assert.Equal(t, 5, fake.Indexes()["logs-app-default"])

	out.Reset()
	run([]string{"replay", "-url", fake.URL, path}, &out, &errb)
	assert.Contains(t, out.String(), "5 event(s): 0 indexed, 5 already indexed (409)")
	assert.Equal(t, 5, fake.Stats().Docs)
	assert.Zero(t, fake.Stats().DoubleCreates)
}

// TestReplayQueueDir: the events a sink left in its disk queue (cluster
// down) are sent by replay of the directory, once.
func TestReplayQueueDir(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	qdir := filepath.Join(t.TempDir(), "queue")
	s, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{addr}, QueueDir: qdir, Dataset: "app",
		DeadLetterPath: filepath.Join(t.TempDir(), "dl.ndjson"), OnError: func(error) {}})
	require.NoError(t, err)
	for i := range 40 {
		require.NoError(t, s.Write(fmt.Appendf(nil, `{"message":"m","event":{"id":"q-%d"}}`, i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)

	l, err = net.Listen("tcp", strings.TrimPrefix(addr, "http://"))
	require.NoError(t, err)
	fake := esfake.NewOn(l)
	defer fake.Close()
	var out, errb bytes.Buffer
	code := run([]string{"replay", "-url", addr, "-dataset", "app", qdir}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	assert.Contains(t, out.String(), "40 event(s): 40 indexed")
	assert.Equal(t, 40, fake.Indexes()["logs-app-default"])
	out.Reset()
	code = run([]string{"replay", "-url", addr, "-dataset", "app", qdir}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	assert.Contains(t, out.String(), "0 event(s): 0 indexed", "nothing left after a replay")
}
