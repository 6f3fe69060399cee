package pipelog_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

type orderImported struct{ event.Base }

// The case: a batch job whose every event is dead-lettered by the
// Elasticsearch sink (the cluster answers 401, or 404 for a wrong bulk
// path) used to exit 0 with "ok". Now it exits ExitLost and its last line
// names the dead-letter file, whose lines are the run's events.
func TestRunJobElasticsearchEverythingDeadLettered(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"error":{"type":"security_exception","reason":"nope"},"status":401}`)
			}))
			defer srv.Close()
			dlPath := filepath.Join(t.TempDir(), "state", "orders-etl.deadletter.ndjson")
			es, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{srv.URL}, Dataset: "orders-etl",
				DeadLetterPath: dlPath, FlushInterval: 20 * time.Millisecond, OnError: func(error) {}})
			require.NoError(t, err)
			log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{es}, OnError: func(error) {}})
			require.NoError(t, err)
			var report bytes.Buffer
			code := pipelog.RunJob(context.Background(), log, pipelog.Job{Name: "import-orders", IgnoreSignals: true,
				Report: &report, Run: func(ctx context.Context) error {
					for range 100 {
						pipelog.Emit(ctx, log, orderImported{Base: event.Info("order imported")})
					}
					return nil
				}})
			assert.Equal(t, pipelog.ExitLost, code)
			b, err := os.ReadFile(dlPath)
			require.NoError(t, err)
			n := bytes.Count(b, []byte{'\n'})
			assert.Equal(t, 102, n, "the run's 100 events, JobStarted and JobSucceeded")
			assert.Equal(t, fmt.Sprintf("pipelog: job import-orders: %d event(s) not delivered: %d dead-lettered to %s; exit code 3\n", n, n, dlPath), report.String())
			assert.ErrorIs(t, log.Close(context.Background()), sink.ErrLost)
		})
	}
}
