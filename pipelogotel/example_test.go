package pipelogotel_test

import (
	"context"
	"fmt"
	"io"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/pipelogotel"
	"github.com/pipelog/pipelog/sink"
)

// A Logger's counters as OpenTelemetry metrics. (A real program passes its
// MeterProvider's Meter, exported by OTLP or Prometheus; the manual reader
// here shows what an export would carry.)
func ExampleRegister() {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	if _, err := pipelogotel.Register(provider.Meter("github.com/pipelog/pipelog"), log, pipelogotel.Config{}); err != nil {
		panic(err)
	}

	type Tick struct{ event.Base }
	for range 3 {
		pipelog.Emit(context.Background(), log, Tick{Base: event.Info("tick")})
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "pipelog.log.processed" {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if t, ok := dp.Attributes.Value(pipelogotel.KeyErrorType); ok {
					fmt.Printf("%s %s error.type=%s: %d\n", m.Name, m.Unit, t.AsString(), dp.Value)
				} else {
					fmt.Printf("%s %s: %d\n", m.Name, m.Unit, dp.Value)
				}
			}
		}
	}
	// Unordered output:
	// pipelog.log.processed {log_record}: 3
	// pipelog.log.processed {log_record} error.type=sink_failed: 0
	// pipelog.log.processed {log_record} error.type=closed: 0
	// pipelog.log.processed {log_record} error.type=sampled: 0
}
