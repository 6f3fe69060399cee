// Command pipelog is pipelog's operator tool. Each subcommand is a file of
// its own in this folder:
//
//	pipelog help              list the subcommands
//	pipelog setup [--print]   install a data stream's templates and lifecycle (setup.go)
//	pipelog mappings          lint the Elasticsearch mapping of the event types (mappings.go)
//	pipelog replay FILE|DIR   re-send a dead letter or a disk queue under the same _ids (replay.go)
//
// Subcommands read the same connection flags and environment variables as
// the Elasticsearch sink where they talk to a cluster.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: run gets the arguments after its name and
// returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by the subcommands' init functions.
var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	if _, dup := commands[name]; dup {
		panic("pipelog: subcommand registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "pipelog: unknown subcommand %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pipelog <subcommand> [flags]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}
