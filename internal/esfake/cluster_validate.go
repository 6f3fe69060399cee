package esfake

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// What the fake checks in the bodies it is sent: the rules Elasticsearch
// applies to component and index templates that the setup could break.

var knownTypes = map[string]bool{
	"keyword": true, "constant_keyword": true, "wildcard": true, "text": true, "match_only_text": true,
	"long": true, "integer": true, "short": true, "byte": true, "unsigned_long": true, "double": true,
	"float": true, "half_float": true, "scaled_float": true, "boolean": true, "date": true, "date_nanos": true,
	"ip": true, "geo_point": true, "object": true, "nested": true, "flattened": true, "binary": true,
	"alias": true, "version": true, "semantic_text": true,
}

func (c *Cluster) validateComponent(_ string, obj map[string]any) error {
	if !c.atLeast(8, 16) && c.flavor != "serverless" && strings.Contains(fmt.Sprint(obj), "synthetic_source_keep") {
		return fmt.Errorf("mapper_parsing_exception: unknown parameter [synthetic_source_keep] on mapper of type [keyword]")
	}
	for k := range obj {
		if k != "template" && k != "version" && k != "_meta" && k != "deprecated" {
			return fmt.Errorf("[component_template] unknown field [%s]", k)
		}
	}
	tmpl, ok := obj["template"].(map[string]any)
	if !ok {
		return fmt.Errorf("[component_template] requires [template]")
	}
	return validateTemplate(tmpl)
}

func validateTemplate(tmpl map[string]any) error {
	for k := range tmpl {
		switch k {
		case "mappings", "settings", "aliases", "lifecycle", "data_stream_options":
		default:
			return fmt.Errorf("[template] unknown field [%s]", k)
		}
	}
	if m, ok := tmpl["mappings"]; ok {
		mm, ok := m.(map[string]any)
		if !ok {
			return fmt.Errorf("[mappings] must be an object")
		}
		if err := validateMappings(mm); err != nil {
			return err
		}
	}
	if s, ok := tmpl["settings"]; ok {
		if _, ok := s.(map[string]any); !ok {
			return fmt.Errorf("[settings] must be an object")
		}
	}
	return nil
}

func validateMappings(m map[string]any) error {
	for k, v := range m {
		switch k {
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("mapper_parsing_exception: [properties] must be an object")
			}
			if err := validateProperties("", props); err != nil {
				return err
			}
		case "dynamic_templates":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("mapper_parsing_exception: Dynamic template syntax error. An array of named objects is expected.")
			}
			for _, t := range list {
				named, ok := t.(map[string]any)
				if !ok || len(named) != 1 {
					return fmt.Errorf("mapper_parsing_exception: A dynamic template must be defined with a name")
				}
				for name, def := range named {
					d, _ := def.(map[string]any)
					mp, ok := d["mapping"].(map[string]any)
					if !ok {
						return fmt.Errorf("dynamic template [%s] has no mapping", name)
					}
					if t, ok := mp["type"].(string); ok && !knownTypes[t] {
						return fmt.Errorf("dynamic template [%s]: No mapper found for type [%s]", name, t)
					}
					if mt, ok := d["match_mapping_type"].(string); ok && !slices.Contains([]string{"*", "string", "long", "double", "boolean", "object", "date", "binary"}, mt) {
						return fmt.Errorf("dynamic template [%s]: No field type matched on [%s]", name, mt)
					}
				}
			}
		case "date_detection", "numeric_detection", "dynamic", "_source", "subobjects", "_meta", "_data_stream_timestamp", "runtime":
		default:
			return fmt.Errorf("mapper_parsing_exception: Root mapping definition has unsupported parameters: [%s]", k)
		}
	}
	return nil
}

func validateProperties(prefix string, props map[string]any) error {
	for name, v := range props {
		node, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("mapper_parsing_exception: Expected map for property [%s%s]", prefix, name)
		}
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("mapper_parsing_exception: field name cannot be empty")
		}
		typ, hasType := node["type"].(string)
		sub, hasSub := node["properties"].(map[string]any)
		switch {
		case hasType && !knownTypes[typ]:
			return fmt.Errorf("mapper_parsing_exception: No handler for type [%s] declared on field [%s%s]", typ, prefix, name)
		case hasSub && hasType && typ != "object" && typ != "nested":
			return fmt.Errorf("mapper_parsing_exception: field [%s%s] of type [%s] cannot have properties", prefix, name, typ)
		case !hasType && !hasSub:
			return fmt.Errorf("mapper_parsing_exception: No type specified for field [%s%s]", prefix, name)
		}
		if hasSub {
			if err := validateProperties(prefix+name+".", sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// builtIn is what a cluster of this version has built in.
func (c *Cluster) builtIn(name string) bool {
	switch name {
	case "logs@mappings", "logs@settings", "ecs@mappings":
		return c.atLeast(8, 12) || c.flavor == "serverless"
	case "logs-mappings", "logs-settings":
		return true
	}
	return false
}

func (c *Cluster) atLeast(major, minor int) bool {
	var ma, mi int
	fmt.Sscanf(c.version, "%d.%d", &ma, &mi)
	return ma > major || ma == major && mi >= minor
}

func (c *Cluster) validateIndexTemplate(name string, obj map[string]any) error {
	for k := range obj {
		switch k {
		case "index_patterns", "composed_of", "template", "priority", "version", "_meta", "data_stream",
			"allow_auto_create", "ignore_missing_component_templates", "deprecated":
		default:
			return fmt.Errorf("[index_template] unknown field [%s]", k)
		}
	}
	pats := strs(obj["index_patterns"])
	if len(pats) == 0 {
		return fmt.Errorf("index patterns are missing")
	}
	ignore := strs(obj["ignore_missing_component_templates"])
	for _, ct := range strs(obj["composed_of"]) {
		if _, ok := c.components[ct]; !ok && !c.builtIn(ct) && !slices.Contains(ignore, ct) {
			return fmt.Errorf("index template [%s] specifies component templates [%s] that do not exist", name, ct)
		}
	}
	if t, ok := obj["template"].(map[string]any); ok {
		if err := validateTemplate(t); err != nil {
			return err
		}
		if _, ok := t["lifecycle"]; ok && !c.atLeast(8, 11) {
			return fmt.Errorf("[template] unknown field [lifecycle]")
		}
		if s, ok := t["settings"].(map[string]any); ok && c.flavor == "serverless" {
			for k := range s {
				if strings.HasPrefix(k, "index.lifecycle.") {
					return fmt.Errorf("Settings [%s] are not available when running in serverless mode", k)
				}
			}
		}
	}
	prio, _ := obj["priority"].(float64)
	for other, raw := range c.templates {
		if other == name {
			continue
		}
		var o map[string]any
		_ = json.Unmarshal(raw, &o)
		op, _ := o["priority"].(float64)
		if op == prio && overlap(pats, strs(o["index_patterns"])) {
			return fmt.Errorf("index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%v]", name, pats, other, other, strs(o["index_patterns"]), prio)
		}
	}
	if prio == 100 && overlap(pats, []string{"logs-*-*"}) {
		return fmt.Errorf("index template [%s] has index patterns %v matching patterns from existing templates [logs] with the same priority [100]", name, pats)
	}
	return nil
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// overlap is a rough test of two pattern lists matching a common name.
func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if m, _ := path.Match(x, strings.ReplaceAll(y, "*", "x")); m {
				return true
			}
			if m, _ := path.Match(y, strings.ReplaceAll(x, "*", "x")); m {
				return true
			}
		}
	}
	return false
}
