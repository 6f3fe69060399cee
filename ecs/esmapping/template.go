package esmapping

import (
	"encoding/json"
	"strings"
)

// JSON returns the "mappings" object of a component template:
// {"dynamic_templates":[…],"properties":{…}}, its keys sorted, so the same
// types always give the same bytes.
func (m *Mappings) JSON() []byte {
	dyn := make([]map[string]any, 0, len(m.Dynamic))
	for _, d := range m.Dynamic {
		t := map[string]any{"path_match": d.PathMatch, "mapping": d.Mapping}
		if d.MatchMappingType != "" {
			t["match_mapping_type"] = d.MatchMappingType
		}
		dyn = append(dyn, map[string]any{d.Name: t})
	}
	b, err := json.Marshal(map[string]any{"dynamic_templates": dyn, "properties": m.properties()})
	if err != nil {
		panic("esmapping: " + err.Error()) // maps of strings, numbers and booleans only
	}
	return b
}

// properties is the tree of Fields as Elasticsearch properties.
func (m *Mappings) properties() map[string]any {
	root := map[string]any{}
	for _, f := range m.Fields {
		parts := strings.Split(f.Path, ".")
		cur := root
		for _, p := range parts[:len(parts)-1] {
			node, _ := cur[p].(map[string]any)
			if node == nil {
				node = map[string]any{}
				cur[p] = node
			}
			props, _ := node["properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
				node["properties"] = props
			}
			cur = props
		}
		last := parts[len(parts)-1]
		node, _ := cur[last].(map[string]any)
		if node == nil {
			node = map[string]any{}
			cur[last] = node
		}
		for k, v := range f.Mapping {
			node[k] = v
		}
	}
	return root
}

// FieldCount is the number of fields the explicit mapping adds, counted as
// Elasticsearch counts them against index.mapping.total_fields.limit:
// every object and leaf, and every multi-field.
func (m *Mappings) FieldCount() int { return countFields(m.properties()) }

func countFields(props map[string]any) int {
	n := 0
	for _, v := range props {
		node, _ := v.(map[string]any)
		n++
		if sub, ok := node["properties"].(map[string]any); ok {
			n += countFields(sub)
		}
		if mf, ok := node["fields"].(map[string]any); ok {
			n += len(mf)
		}
	}
	return n
}
