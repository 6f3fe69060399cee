package pipelogexpvar_test

import (
	"context"
	"fmt"
	"io"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/pipelogexpvar"
	"github.com/pipelog/pipelog/sink"
)

// A Logger's counters at /debug/vars (served by http.DefaultServeMux, or
// mount expvar.Handler() on an admin listener).
func ExamplePublish() {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Sinks: []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}})
	if err != nil {
		panic(err)
	}
	defer log.Close(context.Background())
	if err := pipelogexpvar.Publish("pipelog", log); err != nil {
		panic(err)
	}

	type Tick struct{ event.Base }
	pipelog.Emit(context.Background(), log, Tick{Base: event.Info("tick")})
	fmt.Println(pipelogexpvar.Func(log).String())
	// Output:
	// {"written":1,"failed":0,"dropped":0,"sink_errors":0,"errors":0,"sampled":0,"enricher_panics":0,"sinks":[{"name":"0:*sink.Writer","dropped":0,"dead_lettered":0,"undelivered":0}]}
}
