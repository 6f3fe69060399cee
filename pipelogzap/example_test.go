package pipelogzap_test

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogzap"
	"github.com/pipelog/pipelog/sink"
)

// zap through a Logger: the same ECS lines as typed events. zap.Error fills
// error.* (error.type walks the %w chain), a field named "message" cannot
// clash with the line's message, and ecs.version stays top-level after
// zap.Namespace.
func ExampleNewCore() {
	log, err := pipelog.New(pipelog.Config{
		Service:  "orders-api",
		Hostname: "web-1",
		Sinks:    []sink.Sink{sink.NewWriter(testlog.StableNoTime{W: os.Stdout}, sink.WriterConfig{})}, // prints lines without @timestamp, event.id, process.pid
	})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	logger := zap.New(pipelogzap.NewCore(log)).Named("checkout")
	defer logger.Sync()

	logger.Info("order accepted", zap.String("url.path", "/v1/orders"), zap.Int("items", 3))
	logger.With(zap.Namespace("payment")).Error("order failed",
		zap.String("message", "user-supplied"),
		zap.Error(fmt.Errorf("charge: %w", errNoFunds)))
	// Output:
	// {"log.level":"info","message":"order accepted","ecs.version":"9.4.0","service":{"name":"orders-api"},"event":{"kind":"event","dataset":"orders_api"},"host":{"hostname":"web-1"},"log":{"logger":"checkout"},"url":{"path":"/v1/orders"},"Pipelog":{"Attrs":{"items":3}}}
	// {"log.level":"error","message":"order failed","ecs.version":"9.4.0","service":{"name":"orders-api"},"event":{"kind":"event","dataset":"orders_api"},"host":{"hostname":"web-1"},"log":{"logger":"checkout"},"error":{"message":"charge: insufficient funds","type":"pipelogzap_test.fundsError"},"Pipelog":{"Attrs":{"payment":{"message":"user-supplied"}}}}
}

type fundsError struct{}

func (fundsError) Error() string { return "insufficient funds" }

var errNoFunds error = fundsError{}
