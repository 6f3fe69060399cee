package pipelogexpvar_test

import (
	"context"
	"encoding/json"
	"expvar"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/pipelogexpvar"
	"github.com/pipelog/pipelog/sink"
)

type lossy struct{ memsink.Sink }

func (*lossy) Losses() sink.Losses {
	return sink.Losses{Dropped: 1, DeadLettered: 2, Undelivered: 3, DeadLetter: "/var/lib/x/dead.ndjson"}
}

func TestPublish(t *testing.T) {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{&memsink.Sink{}, &lossy{}}})
	require.NoError(t, err)
	require.NoError(t, pipelogexpvar.Publish("pipelog.test", log))
	assert.ErrorContains(t, pipelogexpvar.Publish("pipelog.test", log), `"pipelog.test" is already published`)

	type Tick struct{ event.Base }
	for range 4 {
		pipelog.Emit(context.Background(), log, Tick{Base: event.Info("tick")})
	}
	// What an operator sees: GET /debug/vars.
	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/vars", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var vars map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &vars))
	var got pipelogexpvar.Stats
	require.NoError(t, json.Unmarshal(vars["pipelog.test"], &got))
	assert.Equal(t, uint64(4), got.Written)
	require.Len(t, got.Sinks, 2)
	assert.Equal(t, "0:*memsink.Sink", got.Sinks[0].Name)
	assert.Equal(t, pipelogexpvar.SinkStats{Name: "1:*pipelogexpvar_test.lossy", Dropped: 1, DeadLettered: 2, Undelivered: 3,
		DeadLetter: "/var/lib/x/dead.ndjson"}, got.Sinks[1])
	assert.Contains(t, string(vars["pipelog.test"]), `"sink_errors":0`)
	require.ErrorIs(t, log.Close(context.Background()), sink.ErrLost, "the lossy sink's losses")
}

func TestFuncNilLogger(t *testing.T) {
	v := pipelogexpvar.Func(nil).Value().(pipelogexpvar.Stats)
	assert.Zero(t, v.Written)
	assert.Empty(t, v.Sinks)
}
