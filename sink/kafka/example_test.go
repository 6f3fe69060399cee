package kafka_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/kafka"
)

// OrderShipped is an example event.
type OrderShipped struct {
	event.Base
	Order string `json:"order"`
}

// A Logger writing to Kafka: each event is one record on topic "logs",
// keyed by the order (so an order's events stay in one partition, in
// order). kfake stands in for the cluster here.
func Example() {
	cluster, _ := kfake.NewCluster(kfake.SeedTopics(3, "logs"))
	defer cluster.Close()

	ks, err := kafka.New(kafka.Config{
		Brokers:  cluster.ListenAddrs(),
		Topic:    "logs",
		KeyField: "Pipelog.OrderShipped.order",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	log, _ := pipelog.New(pipelog.Config{Service: "shipping", Sinks: []sink.Sink{ks}})
	for _, o := range []string{"o-1", "o-2", "o-1"} {
		pipelog.Emit(context.Background(), log, OrderShipped{Base: event.Info("order shipped"), Order: o})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := log.Close(ctx); err != nil { // closes the sink: everything delivered or dead-lettered
		fmt.Println(err)
	}
	st := ks.Stats()
	fmt.Println("delivered", st.Delivered, "dead-lettered", st.DeadLettered)
	// Output: delivered 3 dead-lettered 0
}
