package encode

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"gopkg.in/yaml.v3"
)

// durationUnits must name every ECS integer field whose description gives
// its unit as seconds or nanoseconds, with that unit: ECS types them all
// long, so the description is the only record of the unit.
func TestDurationUnitsMatchECS(t *testing.T) {
	raw, err := os.ReadFile("../../ecs/testdata/ecs_flat.yml")
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]struct {
		Type  string `yaml:"type"`
		Short string `yaml:"short"`
	}
	if err := yaml.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	ns := regexp.MustCompile(`(?i)\bnanoseconds?\b`)
	sec := regexp.MustCompile(`(?i)\bseconds?\b`)
	want := map[string]time.Duration{}
	for name, f := range fields {
		if f.Type != "long" {
			continue
		}
		switch {
		case ns.MatchString(f.Short):
			want[name] = time.Nanosecond
		case sec.MatchString(f.Short):
			want[name] = time.Second
		}
	}
	assert.Equal(t, want, durationUnits)
}
