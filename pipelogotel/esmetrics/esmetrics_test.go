package esmetrics_test

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
	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/pipelogotel"
	"github.com/pipelog/pipelog/pipelogotel/esmetrics"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

func TestRegister(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	dl := &memsink.Sink{}
	es, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{fake.URL}, Dataset: "orders-etl",
		FlushInterval: 10 * time.Millisecond, DeadLetter: dl, OnError: func(error) {}})
	require.NoError(t, err)
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{es}, OnError: func(error) {}})
	require.NoError(t, err)

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())
	_, err = esmetrics.Register(provider.Meter("github.com/pipelog/pipelog"), "", es)
	require.NoError(t, err)

	type Tick struct{ event.Base }
	for range 7 {
		pipelog.Emit(context.Background(), log, Tick{Base: event.Info("tick")})
	}
	assert.Error(t, es.Write([]byte("not json\n")), "an invalid line is refused and dead-lettered")
	require.NoError(t, log.Flush(context.Background()))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]map[attribute.Distinct]int64{}
	var reqTime float64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				got[m.Name] = map[attribute.Distinct]int64{}
				for _, dp := range d.DataPoints {
					got[m.Name][dp.Attributes.Equivalent()] = dp.Value
				}
			case metricdata.Sum[float64]:
				reqTime = d.DataPoints[0].Value
			}
		}
	}
	name := pipelogotel.KeyExporterName.String("elasticsearch")
	at := func(metric string, kv ...attribute.KeyValue) int64 {
		s := attribute.NewSet(append([]attribute.KeyValue{name}, kv...)...)
		v, ok := got[metric][s.Equivalent()]
		require.True(t, ok, "%s has no point %v; has %v", metric, kv, got[metric])
		return v
	}
	errType := pipelogotel.KeyErrorType.String
	assert.Equal(t, int64(7), at("pipelog.exporter.log.exported"))
	assert.Equal(t, int64(1), at("pipelog.exporter.log.exported", errType("invalid")))
	assert.Equal(t, int64(0), at("pipelog.exporter.log.exported", errType("dead_lettered")), "the invalid line is counted once")
	assert.Equal(t, int64(0), at("pipelog.exporter.log.exported", errType("queue_full")))
	assert.Equal(t, int64(0), at("pipelog.exporter.log.inflight"))
	assert.Equal(t, int64(0), at("pipelog.exporter.queue.size"))
	assert.Positive(t, at("pipelog.exporter.requests"))
	assert.Equal(t, int64(0), at("pipelog.exporter.requests", errType("failed")))
	raw, sent := at("pipelog.exporter.bytes", pipelogotel.KeyCompressed.Bool(false)), at("pipelog.exporter.bytes", pipelogotel.KeyCompressed.Bool(true))
	assert.Positive(t, raw)
	assert.Positive(t, sent)
	assert.Positive(t, reqTime)
	assert.Equal(t, 7, fake.Stats().Docs)
	require.NoError(t, log.Close(context.Background()))
}
