package esmapping_test

import (
	"os"
	"testing"

	"github.com/pipelog/pipelog/ecs/esmapping"
	"github.com/pipelog/pipelog/internal/ecsflat"
)

// The mappings taken from the composable templates agree with ecs_flat.yml,
// the field set the encoder checks against: every field is there, with its
// type.
func TestECSMappingsMatchTheFieldSet(t *testing.T) {
	yml, err := os.ReadFile("../testdata/ecs_flat.yml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ecsflat.Parse(yml)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fields) < 2000 {
		t.Fatalf("%d fields", len(s.Fields))
	}
	for _, f := range s.Fields {
		m, ok := esmapping.ECSFieldMapping(f.Name)
		switch {
		case !ok:
			t.Errorf("%s (%s): not in the composable templates", f.Name, f.Type)
		case m.Type() != f.Type:
			t.Errorf("%s: composable %s, ecs_flat.yml %s", f.Name, m.Type(), f.Type)
		}
	}
	if esmapping.ECSVersion != "9.4.0" {
		t.Errorf("ECS %s", esmapping.ECSVersion)
	}
}
