package pipelogotel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/pipelogotel"
	"github.com/pipelog/pipelog/sink"
)

// lossySink refuses every write and reports losses, like a sink whose
// destination is gone.
type lossySink struct{ memsink.Sink }

func (*lossySink) Write([]byte) error { return sink.ErrClosed }
func (*lossySink) Losses() sink.Losses {
	return sink.Losses{Dropped: 2, DeadLettered: 3, Undelivered: 1}
}

// collect reads every metric the reader has, by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point returns the value of the sum data point of m whose attributes are
// exactly kv, and whether there is one.
func point(t *testing.T, m metricdata.Metrics, kv ...attribute.KeyValue) (int64, bool) {
	t.Helper()
	want := attribute.NewSet(kv...)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is %T, want an int64 sum", m.Name, m.Data)
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

func wantPoint(t *testing.T, ms map[string]metricdata.Metrics, name string, want int64, kv ...attribute.KeyValue) {
	t.Helper()
	m, ok := ms[name]
	require.True(t, ok, "no metric %s", name)
	got, ok := point(t, m, kv...)
	require.True(t, ok, "%s has no point with %v", name, kv)
	assert.Equal(t, want, got, "%s %v", name, kv)
}

func TestRegister(t *testing.T) {
	good, bad := &memsink.Sink{}, &lossySink{}
	clock := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Now: func() time.Time { return clock },
		Sinks:     []sink.Sink{good, sink.MinLevel(bad, event.LevelError)},
		Sampling:  &pipelog.Sampling{First: 2, Thereafter: -1},
		Enrichers: []pipelog.Enricher{func(context.Context, []event.Label) []event.Label { panic("bug") }},
		OnError:   func(error) {}})
	require.NoError(t, err)

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())
	reg, err := pipelogotel.Register(provider.Meter("github.com/pipelog/pipelog"), log,
		pipelogotel.Config{Name: "main", SinkNames: []string{"memory"}})
	require.NoError(t, err)

	type RowRejected struct{ event.Base }
	ctx := context.Background()
	for range 5 {
		pipelog.Emit(ctx, log, RowRejected{Base: event.Error("bad row")}) // 2 written to both sinks (bad fails), 3 sampled
	}
	ms := collect(t, reader)
	logger := pipelogotel.KeyLoggerName.String("main")
	errType := pipelogotel.KeyErrorType.String
	wantPoint(t, ms, "pipelog.log.processed", 2, logger)
	wantPoint(t, ms, "pipelog.log.processed", 3, logger, errType("sampled"))
	wantPoint(t, ms, "pipelog.log.processed", 0, logger, errType("sink_failed"))
	wantPoint(t, ms, "pipelog.log.processed", 0, logger, errType("closed"))
	wantPoint(t, ms, "pipelog.sink.write_errors", 2, logger)
	wantPoint(t, ms, "pipelog.enricher.panics", 2, logger) // sampled events are not enriched
	wantPoint(t, ms, "pipelog.log.errors", 3, logger)      // two sink errors, the first enricher panic
	mem := pipelogotel.KeySinkName.String("memory")
	other := pipelogotel.KeySinkName.String("1:*sink.levelSink")
	wantPoint(t, ms, "pipelog.sink.log.undelivered", 0, logger, mem, errType("dropped"))
	wantPoint(t, ms, "pipelog.sink.log.undelivered", 2, logger, other, errType("dropped"))
	wantPoint(t, ms, "pipelog.sink.log.undelivered", 3, logger, other, errType("dead_lettered"))
	wantPoint(t, ms, "pipelog.sink.log.undelivered", 1, logger, other, errType("lost"))
	m := ms["pipelog.log.processed"]
	assert.Equal(t, "{log_record}", m.Unit)
	sum := m.Data.(metricdata.Sum[int64])
	assert.True(t, sum.IsMonotonic)
	assert.Equal(t, metricdata.CumulativeTemporality, sum.Temporality)

	// Counters are read at each collection.
	require.ErrorIs(t, log.Close(ctx), sink.ErrLost, "the lossy sink's losses")
	type Late struct{ event.Base }
	pipelog.Emit(ctx, log, Late{Base: event.Error("late")})
	ms = collect(t, reader)
	wantPoint(t, ms, "pipelog.log.processed", 1, logger, errType("closed"))
	wantPoint(t, ms, "pipelog.log.processed", 3, logger, errType("sampled"))

	require.NoError(t, reg.Unregister())
	assert.Empty(t, collect(t, reader), "nothing observed after Unregister")
}

func TestRegisterNilLogger(t *testing.T) {
	provider := sdkmetric.NewMeterProvider()
	_, err := pipelogotel.Register(provider.Meter("x"), nil, pipelogotel.Config{})
	assert.ErrorContains(t, err, "nil Logger")
}
