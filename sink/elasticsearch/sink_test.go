package elasticsearch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestElasticsearchRequestShape(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.BulkPath = "insert/elasticsearch/_bulk"
	cfg.BulkQuery = url.Values{"_time_field": {"@timestamp"}, "_msg_field": {"message"}}
	cfg.Header = http.Header{"VL-Stream-Fields": {"labels.run"}}
	cfg.Dataset, cfg.Namespace = "My App/Front-End", "Prod:EU"
	s, err := New(cfg)
	require.NoError(t, err)
	assert.Equal(t, "logs-my_app_front_end-prod_eu", s.Index())
	require.NoError(t, s.Write(testDoc("shape", 1)))
	require.NoError(t, s.Write([]byte(`{"message":"no id"}`))) // no newline, no event.id
	require.NoError(t, s.Write([]byte(`{"event.id":"dotted-1","message":"dotted"}`+"\n")))
	require.NoError(t, s.Close(context.Background()))

	path, h := fake.LastRequest()
	assert.Equal(t, "/insert/elasticsearch/_bulk?_msg_field=message&_time_field=%40timestamp", path)
	assert.Equal(t, "application/x-ndjson", h.Get("Content-Type"))
	assert.Equal(t, "gzip", h.Get("Content-Encoding"))
	assert.Equal(t, "labels.run", h.Get("VL-Stream-Fields"))
	ids := fake.IDs()
	assert.Len(t, ids, 3)
	assert.True(t, ids["shape-000001"])
	assert.True(t, ids["dotted-1"])
	assert.Equal(t, map[string]int{"logs-my_app_front_end-prod_eu": 3}, fake.Indexes())
	assert.Empty(t, dl.lines)
}

func TestElasticsearchNoCompression(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(fake.URL, dl, el)
	cfg.DisableCompression = true
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Write(testDoc("plain", 1)))
	require.NoError(t, s.Close(context.Background()))
	_, h := fake.LastRequest()
	assert.Empty(t, h.Get("Content-Encoding"))
	st := s.Stats()
	assert.Equal(t, st.BytesRaw, st.BytesSent)
	assert.Len(t, fake.IDs(), 1)
}

func TestElasticsearchInvalidLines(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	bad := []string{
		`{"message":"truncated`,
		`["not","an","object"]`,
		"",
		"\n",
		`{"a":1}` + "\n" + `{"b":2}`,
		`{"a":1} trailing`,
		"{\"a\":\"\xff\xfe\"}", // json.Valid accepts invalid UTF-8? it must not crash either way
	}
	rejected := 0
	for _, b := range bad {
		err := s.Write([]byte(b))
		if err != nil {
			rejected++
			assert.ErrorIs(t, err, ErrInvalidLine, "%q", b)
		}
	}
	assert.GreaterOrEqual(t, rejected, 6)
	require.NoError(t, s.Write(testDoc("valid", 1)))
	require.NoError(t, s.Close(context.Background()))
	assert.Zero(t, fake.Stats().Malformed)
	st := s.Stats()
	assert.EqualValues(t, rejected, st.Rejected)
	assert.EqualValues(t, rejected, st.DeadLettered)
	dl.mu.Lock()
	defer dl.mu.Unlock()
	require.Len(t, dl.lines, rejected)
	var e dlEntry
	require.NoError(t, json.Unmarshal(dl.lines[0], &e))
	assert.Equal(t, dlInvalidLine, e.Error.Type)
	assert.Equal(t, `{"message":"truncated`, e.DocumentRaw)
	assert.Contains(t, el.joined(), "invalid line")
}

func TestElasticsearchMintedIDsAreStableAcrossRetries(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	fake.Script(esfake.Fault{Reset: true}, esfake.Fault{Truncate: true})
	dl, el := &memSink{}, &errLog{}
	s, err := New(fastConfig(fake.URL, dl, el))
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, s.Write(fmt.Appendf(nil, `{"message":"m%d"}`+"\n", i)))
	}
	require.NoError(t, s.Close(context.Background()))
	assert.Equal(t, 200, fake.Stats().Docs, "each id-less event stored exactly once")
	assert.Zero(t, fake.Stats().DoubleCreates)
	st := s.Stats()
	assert.EqualValues(t, 200, st.Indexed+st.Duplicates)
	assert.Positive(t, st.Duplicates)
}

func TestElasticsearchDefaultDeadLetterFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.ndjson")
	fake := esfake.New()
	defer fake.Close()
	fake.FaultFunc(func(int) esfake.Fault { return esfake.Fault{ItemStatus: func(int, string) int { return 400 }} })
	el := &errLog{}
	cfg := fastConfig(fake.URL, nil, el)
	cfg.DeadLetterPath = path
	s, err := New(cfg)
	require.NoError(t, err)
	_, statErr := os.Stat(path)
	assert.True(t, os.IsNotExist(statErr), "file created lazily")
	for i := range 10 {
		require.NoError(t, s.Write(testDoc("dlfile", i)))
	}
	require.NoError(t, s.Close(context.Background()))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, fi.Mode().Perm()&^0o640, "created 0640 (minus umask)")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm()&0o600)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var e dlEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		assert.Equal(t, 400, e.Status)
		assert.Equal(t, "document_parsing_exception", e.Error.Type)
		assert.True(t, json.Valid(e.Document))
		n++
	}
	assert.Equal(t, 10, n)
}

func TestDataStreamName(t *testing.T) {
	assert.Equal(t, "logs-generic-default", DataStreamName("", "", ""))
	assert.Equal(t, "logs-my_service-prod", DataStreamName("logs", "My-Service", "PROD"))
	assert.Equal(t, "logs-a_b_c_d_e_f_g_h_i_j_k_l-x", DataStreamName("", `a\b/c*d?e"f<g>h|i,j#k:l`, "x"))
	assert.Equal(t, "logs-svc-default", DataStreamName("", "__svc", ""))
	long := DataStreamName("", strings.Repeat("é", 80), "")
	assert.LessOrEqual(t, len(strings.Split(long, "-")[1]), 100)
	assert.True(t, strings.HasPrefix(long, "logs-éé"))
}
