package pipelog_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// BenchmarkAround: what enrichers and sampling cost on Emit, against the
// same Emit without them (off): the OrderRejected event and context of
// BenchmarkEmit, to io.Discard.
//
//	off             no enricher, no sampling: the one nil check each
//	enrich          two enrichers adding three labels from the context
//	context-labels  the same three labels set with logctx.WithLabels instead:
//	                what writing them costs, without the enrichers
//	sample/kept     sampling on, every event under First: decided, then written
//	sample/dropped  sampling on, every event over First: decided and dropped
func BenchmarkAround(b *testing.B) {
	ctx := withTenant(benchContext(), "acme")
	step := func(_ context.Context, labels []event.Label) []event.Label {
		return append(labels, event.Label{Key: "step", Value: "load"}, event.Label{Key: "attempt", Value: "2"})
	}
	for _, bc := range []struct {
		name string
		cfg  pipelog.Config
		ctx  context.Context
	}{
		{"off", pipelog.Config{}, ctx},
		{"enrich", pipelog.Config{Enrichers: []pipelog.Enricher{tenantEnricher, step}}, ctx},
		{"context-labels", pipelog.Config{}, logctx.WithLabels(ctx, event.Label{Key: "tenant", Value: "acme"},
			event.Label{Key: "step", Value: "load"}, event.Label{Key: "attempt", Value: "2"})},
		{"sample/kept", pipelog.Config{Sampling: &pipelog.Sampling{Interval: time.Hour, First: 1 << 62}}, ctx},
		{"sample/dropped", pipelog.Config{Sampling: &pipelog.Sampling{Interval: time.Hour, First: 1, Thereafter: -1}}, ctx},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := bc.cfg
			cfg.Service, cfg.Environment, cfg.Version = "orders-etl", "prod", "1.4.2"
			cfg.Sinks = []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}
			log, err := pipelog.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer log.Close(context.Background())
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				pipelog.Emit(bc.ctx, log, newOrderRejected())
			}
		})
	}
}
