package pipelog_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

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
