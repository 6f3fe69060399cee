package pipelog_test

import (
	"context"
	"errors"
	"os"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// PaymentDeclined is a typed event: its name is the event's name
// (event.action), Path goes on the ECS field url.path, and the untagged
// fields under Pipelog.PaymentDeclined.
type PaymentDeclined struct {
	event.Base
	Path   string `ecs:"url.path"`
	Tenant string
	Items  int
}

// A typed event written by a Logger to a sink. (stable removes event.id and
// process.pid, which change from run to run.)
func ExampleEmit() {
	log, err := pipelog.New(pipelog.Config{
		Service:  "orders-etl",
		Hostname: "worker-1",
		Now:      exampleNow, // a fixed clock, for the example's output
		Sinks:    []sink.Sink{sink.NewWriter(stable{W: os.Stdout}, sink.WriterConfig{})},
	})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	ctx := context.Background()
	pipelog.Emit(ctx, log, PaymentDeclined{
		Base:   event.Warn("payment declined").WithErr(errors.New("credit limit exceeded")),
		Path:   "/v1/orders",
		Tenant: "acme",
		Items:  3,
	})
	// Output:
	// {"@timestamp":"2026-11-26T10:00:00.000000Z","log.level":"warn","message":"payment declined","ecs.version":"9.4.0","service":{"name":"orders-etl"},"event":{"action":"PaymentDeclined","kind":"event","dataset":"orders_etl"},"host":{"hostname":"worker-1"},"error":{"message":"credit limit exceeded","type":"*errors.errorString"},"url":{"path":"/v1/orders"},"Pipelog":{"PaymentDeclined":{"Tenant":"acme","Items":3}}}
}

// A Logger with two sinks: everything to a human-readable console (for
// local development), and only errors, as ECS JSON, to a second writer
// (in production: sink.NewFile or elasticsearch.New).
func ExampleNew_sinks() {
	console := sink.NewConsole(os.Stdout, sink.ConsoleConfig{Color: sink.ColorNever})
	errorsOnly := sink.MinLevel(sink.NewWriter(stable{W: os.Stdout}, sink.WriterConfig{}), event.LevelError)
	log, err := pipelog.New(pipelog.Config{
		Service:  "orders-etl",
		Hostname: "worker-1",
		Now:      exampleLocalNow,
		Sinks:    []sink.Sink{console, errorsOnly},
	})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	ctx := context.Background()
	pipelog.Emit(ctx, log, PaymentDeclined{Base: event.Info("payment retried"), Tenant: "acme", Items: 1})
	pipelog.Emit(ctx, log, PaymentDeclined{
		Base:   event.Error("payment declined").WithErr(errors.New("card expired")),
		Tenant: "acme",
	})
	// Output:
	// 10:00:00.000 INFO  PaymentDeclined payment retried Tenant=acme Items=1
	// 10:00:00.000 ERROR PaymentDeclined payment declined error.message="card expired" Tenant=acme Items=0
	// {"@timestamp":"2026-11-26T10:00:00.000000Z","log.level":"error","message":"payment declined","ecs.version":"9.4.0","service":{"name":"orders-etl"},"event":{"action":"PaymentDeclined","kind":"event","dataset":"orders_etl"},"host":{"hostname":"worker-1"},"error":{"message":"card expired","type":"*errors.errorString"},"Pipelog":{"PaymentDeclined":{"Tenant":"acme","Items":0}}}
}
