package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"reflect"

	"github.com/pipelog/pipelog/pipelogsetup"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

// dataset is the data stream's dataset: the sink writes to
// logs-orders_etl-default, and every line says so in data_stream.* and
// event.dataset.
const dataset = "orders_etl"

// setupProgram is what `batch -setup` installs: the job's own event types
// (and the library's: RunJob's job events) mapped in logs-orders_etl-*.
// Only the program knows its types, so it is the program that runs setup:
//
//	go run ./examples/batch -setup --print                 # show every request body
//	go run ./examples/batch -setup --retention 30d         # send them ($ELASTICSEARCH_URL or --url)
//	go run ./examples/batch -setup mappings                # lint the mapping
var setupProgram = pipelogsetup.Program{
	Dataset: dataset,
	Types: []reflect.Type{reflect.TypeFor[InputOpened](), reflect.TypeFor[RowRejected](),
		reflect.TypeFor[BatchWritten](), reflect.TypeFor[OutputWritten]()},
}

// runSetup runs `batch -setup [mappings] [flags]`.
func runSetup(args []string, stdout, stderr io.Writer) int {
	p := setupProgram
	if u := os.Getenv("PIPELOG_ES_URL"); u != "" {
		p.Connection = elasticsearch.Config{Addresses: []string{u}}
	}
	if len(args) > 0 && args[0] == "mappings" {
		return p.Mappings(args[1:], stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return p.Setup(ctx, args, stdout, stderr)
}
