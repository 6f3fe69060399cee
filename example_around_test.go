package pipelog_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// The platform describes the service through the environment; the code
// names only what it insists on.
func ExampleConfigFromEnv() {
	os.Setenv("OTEL_SERVICE_NAME", "orders-etl")
	os.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.4.2,deployment.environment.name=prod")
	os.Setenv("PIPELOG_LEVEL", "debug")
	defer func() {
		for _, k := range []string{"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "PIPELOG_LEVEL"} {
			os.Unsetenv(k)
		}
	}()

	cfg, err := pipelog.ConfigFromEnv(pipelog.Config{Environment: "staging"}) // Config beats the environment
	if err != nil {
		fmt.Println(err) // e.g. pipelog: PIPELOG_LEVEL: "verbose" is not a level (…)
		return
	}
	fmt.Println(cfg.Service, cfg.Version, cfg.Environment, cfg.Level)
	// Output:
	// orders-etl 1.4.2 staging debug
}

// A development preset: console lines, debug level, the caller. (Here the
// console writes to standard output without colour, with a fixed clock and
// without the caller, for the example's output.)
func ExampleDevelopmentConfig() {
	cfg := pipelog.DevelopmentConfig("orders-etl")
	cfg.Sinks = []sink.Sink{sink.NewConsole(os.Stdout, sink.ConsoleConfig{Color: sink.ColorNever})}
	cfg.Now, cfg.Caller = exampleLocalNow, false
	log, err := pipelog.New(cfg)
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	pipelog.Emit(context.Background(), log, PaymentDeclined{Base: event.Debug("checking limit"), Tenant: "acme"})
	// Output:
	// 10:00:00.000 DEBUG PaymentDeclined checking limit Tenant=acme Items=0
}

// The level, read and changed over HTTP while the service runs (mount the
// handler on an admin listener).
func ExampleLogger_LevelHandler() {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{sink.NewWriter(stable{W: os.Stdout}, sink.WriterConfig{})}})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())
	admin := http.NewServeMux()
	admin.Handle("/log/level", log.LevelHandler())

	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/log/level", nil),
		httptest.NewRequest(http.MethodPut, "/log/level", strings.NewReader(`{"level":"debug"}`)),
		httptest.NewRequest(http.MethodPut, "/log/level", strings.NewReader(`{"level":"verbose"}`)),
	} {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, req)
		fmt.Print(req.Method, " ", rec.Code, " ", rec.Body.String())
	}
	fmt.Println(log.Level())
	// Output:
	// GET 200 {"level":"info"}
	// PUT 200 {"level":"debug"}
	// PUT 400 {"error":"event: unknown level \"verbose\""}
	// debug
}

// customerKey is an application's own context key.
type customerKey struct{}

// An enricher puts what the application keeps in its contexts on every
// line, as labels.
func ExampleEnricher() {
	customer := func(ctx context.Context, labels []event.Label) []event.Label {
		if c, ok := ctx.Value(customerKey{}).(string); ok {
			labels = append(labels, event.Label{Key: "customer", Value: c})
		}
		return labels
	}
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Hostname: "worker-1", Now: exampleNow,
		Enrichers: []pipelog.Enricher{customer},
		Sinks:     []sink.Sink{sink.NewWriter(stable{W: os.Stdout}, sink.WriterConfig{})}})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())

	ctx := context.WithValue(context.Background(), customerKey{}, "cust-42")
	pipelog.Emit(ctx, log, PaymentDeclined{Base: event.Warn("payment declined"), Tenant: "acme"})
	// Output:
	// {"@timestamp":"2026-11-26T10:00:00.000000Z","log.level":"warn","message":"payment declined","ecs.version":"9.4.0","service":{"name":"orders-etl"},"event":{"action":"PaymentDeclined","kind":"event","dataset":"orders_etl"},"host":{"hostname":"worker-1"},"labels":{"customer":"cust-42"},"Pipelog":{"PaymentDeclined":{"Tenant":"acme","Items":0}}}
}

// Sampling a flood: the first two events of the type are written, the
// rest counted, and the count is written when the interval ends (here: at
// Close).
func ExampleSampling() {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Hostname: "worker-1", Now: exampleNow,
		Sampling: &pipelog.Sampling{First: 2, Thereafter: -1},
		Sinks:    []sink.Sink{sink.NewConsole(os.Stdout, sink.ConsoleConfig{Color: sink.ColorNever, TimeFormat: "15:04"})}})
	if err != nil {
		panic(err)
	}
	for row := range 1000 {
		pipelog.Emit(context.Background(), log, PaymentDeclined{Base: event.Warn("payment declined"), Items: row})
	}
	log.Close(context.Background())
	fmt.Println("sampled:", log.Stats().Sampled)
	// Output:
	// 10:00 WARN  PaymentDeclined payment declined Tenant="" Items=0
	// 10:00 WARN  PaymentDeclined payment declined Tenant="" Items=1
	// 10:00 WARN  EventsSampled sampling dropped 998 PaymentDeclined events event=PaymentDeclined level=warn dropped=998
	// sampled: 998
}

// A Logger that reports on itself: every StatsInterval, and once at Close.
func ExampleConfig_statsInterval() {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Hostname: "worker-1", Now: exampleNow,
		StatsInterval: time.Minute,
		Sinks:         []sink.Sink{sink.NewWriter(stable{W: os.Stdout}, sink.WriterConfig{})}})
	if err != nil {
		panic(err)
	}
	log.Close(context.Background())
	// Output:
	// {"@timestamp":"2026-11-26T10:00:00.000000Z","log.level":"info","message":"pipelog stats","ecs.version":"9.4.0","service":{"name":"orders-etl"},"event":{"action":"LoggerStats","kind":"metric","dataset":"orders_etl"},"host":{"hostname":"worker-1"},"Pipelog":{"LoggerStats":{"written":0,"failed":0,"dropped":0,"sink_errors":0,"errors":0,"sampled":0,"enricher_panics":0,"sink_dropped":0,"sink_dead_lettered":0,"sink_undelivered":0}}}
}
