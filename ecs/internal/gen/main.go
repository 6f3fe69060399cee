// Command gen generates ecs/fields_gen.go from the official ECS flat field
// set (ecs_flat.yml).
//
// Usage (from the ecs directory):
//
//	go run ./internal/gen [-in testdata/ecs_flat.yml] [-out fields_gen.go] [-version X.Y.Z]
//
// The ECS version is read from _meta.ecs_version of composable/template.json
// next to the input file unless -version is given, because ecs_flat.yml does
// not carry the release version.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pipelog/pipelog/ecs/internal/ecsflat"
)

func main() {
	in := flag.String("in", "testdata/ecs_flat.yml", "path to ecs_flat.yml")
	out := flag.String("out", "fields_gen.go", "output Go file")
	version := flag.String("version", "", "ECS version (default: _meta.ecs_version of composable/template.json next to -in)")
	pkg := flag.String("pkg", "ecs", "package name of the generated file")
	flag.Parse()

	if err := run(*in, *out, *version, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out, version, pkg string) error {
	s, err := ecsflat.Load(in, version)
	if err != nil {
		return err
	}
	src, err := ecsflat.Render(s, pkg)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
