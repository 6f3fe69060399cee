// Command gen generates internal/encode/fields_gen.go from the ECS flat
// field set kept in the repository (ecs/testdata/ecs_flat.yml).
//
// Usage (from internal/encode, as go generate runs it):
//
//	go run ./gen [-in ../../ecs/testdata/ecs_flat.yml] [-out fields_gen.go] [-version X.Y.Z]
//
// The ECS version is read from _meta.ecs_version of composable/template.json
// next to the input file unless -version is given, because ecs_flat.yml does
// not carry the release version. To move to a new ECS release, copy its
// ecs_flat.yml, ecs-logging-spec.json and composable/ into ecs/testdata and
// run go generate ./...; CI fails when the checked-in file is stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pipelog/pipelog/internal/ecsflat"
)

func main() {
	in := flag.String("in", "../../ecs/testdata/ecs_flat.yml", "path to ecs_flat.yml")
	out := flag.String("out", "fields_gen.go", "output Go file")
	version := flag.String("version", "", "ECS version (default: _meta.ecs_version of composable/template.json next to -in)")
	pkg := flag.String("pkg", "encode", "package name of the generated file")
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
