package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/ecs/esmapping"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// The example's custom fields include message_id: without pipelog's
// template, ecs@mappings' *.message_id rule makes it a wildcard field. With
// the template installed, the emulation of ecs@mappings' published rules
// decides none of the fields the example writes.
func TestLinesFitTheInstalledMapping(t *testing.T) {
	var out syncBuffer
	log, err := pipelog.New(pipelog.Config{Service: "order-consumer", Sinks: []sink.Sink{sink.NewWriter(&out, sink.WriterConfig{})}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pipelog.Emit(ctx, log, OrderPublished{Base: event.Info("order published"), Queue: "orders", MessageID: "order-1", ParentSpanID: "00f067aa0ba902b7"})
	pipelog.Emit(ctx, log, OrderConsumed{Base: event.Info("order consumed"), Queue: "orders", MessageID: "order-1",
		ParentSpanID: "00f067aa0ba902b7", Redelivered: true, ConsumerWorker: "consumer-1"})
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := esmapping.Build(esmapping.Options{Types: []reflect.Type{reflect.TypeFor[OrderPublished](), reflect.TypeFor[OrderConsumed]()}})
	traps := map[string]string{}
	for _, tr := range m.Traps(true) {
		traps[tr.Field.Path] = tr.Type
	}
	for _, p := range []string{"Pipelog.OrderPublished.message_id", "Pipelog.OrderConsumed.message_id"} {
		if traps[p] != "wildcard" {
			t.Errorf("without the template, %s would be %q; want the wildcard trap found", p, traps[p])
		}
	}
	mis, err := m.CheckLines(out.Bytes(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range mis {
		t.Errorf("with the template: %s", x)
	}
	if f, ok := m.Field("Pipelog.OrderConsumed.message_id"); !ok || f.Mapping.Type() != "keyword" {
		t.Errorf("message_id mapped %v", f.Mapping)
	}
}
