package elasticsearch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestElasticsearchVictoriaLogs sends 100k events through the sink to a real
// VictoriaLogs (which speaks the Elasticsearch _bulk protocol) and counts
// them back. Start one with `eval "$(.ci/victorialogs.sh)"`.
func TestElasticsearchVictoriaLogs(t *testing.T) {
	base := os.Getenv("PIPELOG_VICTORIALOGS_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PIPELOG_VICTORIALOGS_URL is not set but CI=true: start VictoriaLogs with .ci/victorialogs.sh")
		}
		t.Skip("PIPELOG_VICTORIALOGS_URL not set (e.g. http://127.0.0.1:9428); run `eval \"$(.ci/victorialogs.sh)\"` to enable this test")
	}
	const n = 100_000
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	run := "vl" + hex.EncodeToString(rnd[:])

	dl, el := &memSink{}, &errLog{}
	s, err := New(Config{
		Addresses: []string{base},
		Dataset:   "pipelog.integration",
		BulkPath:  "/insert/elasticsearch/_bulk",
		BulkQuery: url.Values{"_time_field": {"@timestamp"}, "_msg_field": {"message"}},
		// VictoriaLogs does not answer X-Elastic-Product on every path; the
		// bulk endpoint does, which is all the client checks.
		DeadLetter:       dl,
		OnError:          el.add,
		BlockWhenFull:    true,
		RetryBackoffMin:  10 * time.Millisecond,
		RetryBackoffMax:  time.Second,
		RequestTimeout:   30 * time.Second,
		MaxQueueBytes:    32 << 20,
		FlushInterval:    100 * time.Millisecond,
		CompressionLevel: 1,
	})
	require.NoError(t, err)

	start := time.Now()
	now := time.Now().UTC()
	for i := range n {
		line := fmt.Appendf(nil, `{"@timestamp":%q,"log.level":"info","message":"GET /api/items/%d served in %dus","ecs.version":"9.4.0","event":{"id":"%s-%07d","dataset":"x"},"labels":{"run":%q},"service":{"name":"checkout"},"http":{"response":{"status_code":200}}}`+"\n",
			now.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano), i, i%997, run, i, run)
		require.NoError(t, s.Write(line))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, s.Flush(ctx))
	elapsed := time.Since(start)
	st := s.Stats()
	require.NoError(t, s.Close(ctx))
	t.Logf("sent %d events in %s (%.0f events/s): %s", n, elapsed, float64(n)/elapsed.Seconds(), st)
	assert.EqualValues(t, n, st.Indexed, "acknowledged as created")
	assert.Zero(t, st.DeadLettered, "dead-lettered: %s", el.joined())
	assert.Empty(t, dl.lines)

	// Rows become visible about a second after the acknowledgement: poll.
	var got int
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got, err = vlCount(base, `labels.run:"`+run+`"`)
		require.NoError(t, err)
		if got >= n {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, n, got, "events counted back from VictoriaLogs")
	// spot-check one event by its id
	one, err := vlCount(base, `event.id:"`+run+`-0042424"`)
	require.NoError(t, err)
	assert.Equal(t, 1, one)
}

func vlCount(base, query string) (int, error) {
	form := url.Values{"query": {query + ` | stats count() n`}}
	res, err := http.PostForm(strings.TrimRight(base, "/")+"/select/logsql/query", form)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("query: HTTP %d: %s", res.StatusCode, body)
	}
	s := strings.TrimSpace(string(body))
	if s == "" {
		return 0, nil
	}
	var row struct {
		N string `json:"n"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(s, "\n", 2)[0]), &row); err != nil {
		return 0, fmt.Errorf("query: %w: %s", err, s)
	}
	return strconv.Atoi(row.N)
}
