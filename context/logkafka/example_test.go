package logkafka_test

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/context/logkafka"
)

// The producer stamps the record; the consumer continues the trace.
func Example() {
	producer := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	rec := &kgo.Record{Topic: "orders", Value: []byte(`{"order":1}`)}
	logkafka.Inject(producer, rec)

	consumer := logkafka.Extract(context.Background(), rec)
	fmt.Println(logctx.TraceID(consumer))
	fmt.Println(logctx.ParentSpanID(consumer))
	// Output:
	// 4bf92f3577b34da6a3ce929d0e0e4736
	// 00f067aa0ba902b7
}
