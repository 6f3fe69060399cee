package pipelogslog_test

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogslog"
	"github.com/pipelog/pipelog/sink"
)

// slog records through a Logger: attributes with ECS names land on their
// ECS fields (url.path), an "err" error fills error.*, the context
// supplies trace.id and span.id, and the rest goes under Pipelog.Attrs,
// groups as objects.
func ExampleNewHandler() {
	log, err := pipelog.New(pipelog.Config{
		Service:  "orders-api",
		Hostname: "web-1",
		Sinks:    []sink.Sink{sink.NewWriter(testlog.StableNoTime{W: os.Stdout}, sink.WriterConfig{})}, // prints lines without @timestamp, event.id, process.pid
	})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	logger := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{})).With("tenant", "acme")
	ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")

	logger.InfoContext(ctx, "order accepted",
		"url.path", "/v1/orders",
		slog.Group("order", slog.String("id", "o-17"), slog.Int("items", 3)))
	logger.ErrorContext(ctx, "order failed", "err", errors.New("stock service down"))
	// Output:
	// {"log.level":"info","message":"order accepted","ecs.version":"9.4.0","service":{"name":"orders-api"},"event":{"kind":"event","dataset":"orders_api"},"host":{"hostname":"web-1"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"span":{"id":"00f067aa0ba902b7"},"url":{"path":"/v1/orders"},"Pipelog":{"Attrs":{"tenant":"acme","order":{"id":"o-17","items":3}}}}
	// {"log.level":"error","message":"order failed","ecs.version":"9.4.0","service":{"name":"orders-api"},"event":{"kind":"event","dataset":"orders_api"},"host":{"hostname":"web-1"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"span":{"id":"00f067aa0ba902b7"},"error":{"message":"stock service down","type":"*errors.errorString"},"Pipelog":{"Attrs":{"tenant":"acme"}}}
}
