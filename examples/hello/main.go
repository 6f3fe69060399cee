// Command hello is the smallest pipelog program: one typed event to
// standard output.
//
//	go run ./examples/hello
//
// It is also the yardstick of what a stdout-only program compiles and
// links: main_test.go checks that its dependencies include no
// Elasticsearch client, no zap and no compression library.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
)

// GreetingSent is the one event this program emits.
type GreetingSent struct {
	event.Base
	To string `ecs:"user.name"`
}

func main() {
	log, err := pipelog.New(pipelog.Config{Service: "hello"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	pipelog.Emit(ctx, log, GreetingSent{Base: event.Info("hello, world"), To: "world"})
	if err := log.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
