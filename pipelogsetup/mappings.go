package pipelogsetup

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/pipelog/pipelog/ecs/esmapping"
)

// Mappings runs `pipelog mappings` with args: it lints the program's event
// types and prints the mapping of every path, the collisions with
// ecs@mappings' suffix rules the template defuses, the field count against
// index.mapping.total_fields.limit, and the fields whose ECS type the Go
// type does not fit. Exit code 0, 1 when a problem is an error (or, with
// -strict, a warning), 2 on bad usage.
func (p Program) Mappings(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mappings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the component template's mappings object instead")
	limit := fs.Int("total-fields-limit", esmapping.DefaultTotalFieldsLimit, "index.mapping.total_fields.limit to count against")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	attrs := fs.String("attrs", esmapping.AttrsFlattened, "mapping of Pipelog.Attrs (slog/zap attributes): flattened or dynamic")
	lines := fs.String("lines", "", "also check the NDJSON lines of this `file` (a file sink's output) against the mapping")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pipelog mappings: unexpected arguments %q\n", fs.Args())
		return 2
	}
	m := esmapping.Build(esmapping.Options{Types: p.types(), Attrs: *attrs})
	if *asJSON {
		fmt.Fprintf(stdout, "%s\n", m.JSON())
		return exitFor(m.Lint(*limit), *strict)
	}
	fmt.Fprintf(stdout, "event types: %s\n\n", strings.Join(m.Types, ", "))
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tMAPPING\tWRITTEN\tGO TYPE\tBY")
	for _, f := range m.Fields {
		typ := f.Mapping.Type()
		if f.ECS {
			typ += " (ECS)"
		}
		if f.Mapping["enabled"] == false {
			typ += ", not indexed"
		}
		v := f.Value
		if f.List {
			v = "[]" + v
		}
		by := "pipelog"
		if len(f.Events) > 0 {
			by = strings.Join(f.Events, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Path, typ, v, f.GoType, by)
	}
	_ = tw.Flush()
	fmt.Fprintln(stdout, "\ndynamic templates (tried before ecs@mappings'):")
	for _, d := range m.Dynamic {
		mt := d.MatchMappingType
		if mt == "" {
			mt = "any"
		}
		fmt.Fprintf(stdout, "  %-40s %s values at %s → %s\n", d.Name, mt, d.PathMatch, d.Mapping.Type())
	}
	probs := m.Lint(*limit)
	fmt.Fprintf(stdout, "\n%d findings:\n", len(probs))
	for _, pr := range probs {
		fmt.Fprintf(stdout, "  %s\n", pr)
	}
	code := exitFor(probs, *strict)
	if *lines != "" {
		if c := checkLines(m, *lines, stdout, stderr); c > code {
			code = c
		}
	}
	return code
}

// checkLines checks a file of lines against m: values the installed
// mapping would not take, and fields left to ecs@mappings.
func checkLines(m *esmapping.Mappings, path string, stdout, stderr io.Writer) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "pipelog mappings:", err)
		return 2
	}
	mis, err := m.CheckLines(raw, false)
	if err != nil {
		fmt.Fprintf(stderr, "pipelog mappings: %s: %v\n", path, err)
		return 1
	}
	seen := map[string]bool{}
	fmt.Fprintf(stdout, "\n%s:\n", path)
	for _, x := range mis {
		if key := x.Path + x.Msg; !seen[key] {
			seen[key] = true
			fmt.Fprintf(stdout, "  %s\n", x)
		}
	}
	if len(mis) == 0 {
		fmt.Fprintln(stdout, "  every value fits the mapping")
		return 0
	}
	return 1
}

func exitFor(probs []esmapping.Problem, strict bool) int {
	for _, p := range probs {
		if p.Severity == esmapping.Error || strict && p.Severity == esmapping.Warning {
			return 1
		}
	}
	return 0
}
