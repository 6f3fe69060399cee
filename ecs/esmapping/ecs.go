package esmapping

import (
	"encoding/json"
	"strings"
	"sync"
)

// ECSVersion is the ECS version of the field mappings Build uses.
const ECSVersion = ecsMappingVersion

var ecsTable struct {
	once sync.Once
	m    map[string]string // path → mapping JSON
}

// ecsMapping returns the ECS mapping of the field at path (a copy), and
// whether ECS has one.
func ecsMapping(path string) (Mapping, bool) {
	ecsTable.once.Do(func() {
		ecsTable.m = make(map[string]string, 2700)
		for line := range strings.SplitSeq(ecsMappingTable, "\n") {
			if k, v, ok := strings.Cut(line, "\t"); ok {
				ecsTable.m[k] = v
			}
		}
	})
	raw, ok := ecsTable.m[path]
	if !ok {
		return nil, false
	}
	var m Mapping
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		panic("esmapping: ECS table: " + path + ": " + err.Error()) // generated: caught by every test
	}
	return m, true
}

// ECSFieldMapping returns the mapping of the ECS field at path, from the
// official composable templates of ECSVersion, and whether path is one.
func ECSFieldMapping(path string) (Mapping, bool) { return ecsMapping(path) }

// ecsContainer reports whether ECS fields lie below path (an implicit or
// declared object, or a nested field).
func ecsContainer(path string) bool {
	ecsMapping("") // load
	prefix := path + "."
	for k := range ecsTable.m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
