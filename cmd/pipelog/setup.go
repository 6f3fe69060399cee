package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/pipelog/pipelog/pipelogsetup"
)

// pipelog setup: the library's own event types (a program runs the same
// command for its own types: see package pipelogsetup).
func init() {
	register("setup", "install a data stream's mappings, templates and lifecycle in Elasticsearch (--print: show them)",
		func(args []string, stdout, stderr io.Writer) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			return pipelogsetup.Program{}.Setup(ctx, args, stdout, stderr)
		})
}
