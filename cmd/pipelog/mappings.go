package main

import (
	"io"

	"github.com/pipelog/pipelog/pipelogsetup"
)

// pipelog mappings: lints the mapping of the library's own event types
// (a program lints its own: pipelogsetup.Program.Mappings).
func init() {
	register("mappings", "lint the Elasticsearch mapping of the event types (paths, ecs@mappings collisions, field count)",
		func(args []string, stdout, stderr io.Writer) int {
			return pipelogsetup.Program{}.Mappings(args, stdout, stderr)
		})
}
