package encode

// fields_gen.go is generated from the ECS flat field set kept in the
// repository; the version comes from _meta.ecs_version of
// composable/template.json next to it. CI runs go generate ./... and fails
// when the result differs from the checked-in file.

//go:generate go run ./gen -in ../../ecs/testdata/ecs_flat.yml -out fields_gen.go -pkg encode
