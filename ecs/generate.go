package ecs

// fields_gen.go is generated from the ECS flat field set; the version comes
// from _meta.ecs_version of composable/template.json next to the input.
//
// The directive below reads the shared ECS release files outside the repo.
// The generator's default input is the in-repo copy (testdata/ecs_flat.yml,
// testdata/composable/template.json), so outside this workspace run
// `go run ./internal/gen` instead. TestFieldsGenUpToDate and
// TestFieldsTableMatchesYAML check the table against the testdata copy: when
// moving to a new ECS release, copy ecs_flat.yml, ecs-logging-spec.json and
// composable/ into testdata as well.

//go:generate go run ./internal/gen -in ../../shared/ecs/ecs_flat.yml -out fields_gen.go
