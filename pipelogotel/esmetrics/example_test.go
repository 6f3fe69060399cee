package esmetrics_test

import (
	"os"

	"go.opentelemetry.io/otel"

	"github.com/pipelog/pipelog/pipelogotel/esmetrics"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

// The bulk sink's queue, deliveries, retries and requests as OpenTelemetry
// metrics, next to the Logger's (pipelogotel.Register).
func ExampleRegister() {
	es, err := elasticsearch.New(elasticsearch.Config{
		Addresses: []string{"https://elasticsearch.example.com:9200"},
		APIKey:    os.Getenv("ES_API_KEY"),
		Dataset:   "orders-etl",
	})
	if err != nil {
		panic(err)
	}
	if _, err := esmetrics.Register(otel.Meter("github.com/pipelog/pipelog"), "orders-es", es); err != nil {
		panic(err)
	}
}
