// Command testsummary reads `go test -json` on standard input and prints
// what a person running the suite needs, no more: each package's result,
// the whole output of every failing test, and every skipped test with the
// reason it gave (plain `go test` hides skips, and the integration tests
// say there why they did not run: which server was missing). It exits 1
// when anything failed, or when the input held no result at all, so that
// `go test -json ... | go run ./internal/testsummary` fails as go test
// would, even in a shell without pipefail.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() { os.Exit(run(os.Stdin, os.Stdout)) }

func run(in io.Reader, out io.Writer) int {
	outputs := map[string]*strings.Builder{} // by package + test
	key := func(e *event) string { return e.Package + "\x00" + e.Test }
	failed, results := false, 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // not JSON: go itself speaking
			continue
		}
		switch e.Action {
		case "output", "build-output":
			b := outputs[key(&e)]
			if b == nil {
				b = &strings.Builder{}
				outputs[key(&e)] = b
			}
			b.WriteString(e.Output)
		case "skip":
			if e.Test != "" {
				fmt.Fprintf(out, "--- SKIP: %s %s\n%s", e.Package, e.Test, indented(outputs[key(&e)], "--- SKIP"))
			}
		case "fail", "build-fail":
			failed = true
			if e.Test != "" {
				fmt.Fprintf(out, "--- FAIL: %s %s\n%s", e.Package, e.Test, text(outputs[key(&e)]))
				break
			}
			results++
			fmt.Fprintf(out, "%s", text(outputs[key(&e)]))
			fmt.Fprintf(out, "FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
		case "pass":
			if e.Test == "" {
				results++
				fmt.Fprintf(out, "ok\t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
		}
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			delete(outputs, key(&e))
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsummary:", err)
		return 1
	}
	if failed || results == 0 {
		return 1
	}
	return 0
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

// indented keeps the lines a skipped test printed, without the RUN/SKIP
// lines go test adds itself.
func indented(b *strings.Builder, drop string) string {
	var sb strings.Builder
	for _, l := range strings.SplitAfter(text(b), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, drop) {
			continue
		}
		sb.WriteString(l)
	}
	return sb.String()
}
