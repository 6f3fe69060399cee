package esfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"sort"
)

// The fake cluster's data streams: created from a matching index
// template, their backing indices, rollover and settings.

// matching returns the index template a new data stream of name uses.
func (c *Cluster) matching(name string) (string, map[string]any) {
	best, bestPrio := "", -1.0
	var bestObj map[string]any
	names := make([]string, 0, len(c.templates))
	for n := range c.templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var o map[string]any
		_ = json.Unmarshal(c.templates[n], &o)
		for _, pat := range strs(o["index_patterns"]) {
			if m, _ := path.Match(pat, name); m {
				if p, _ := o["priority"].(float64); p > bestPrio {
					best, bestPrio, bestObj = n, p, o
				}
			}
		}
	}
	if best == "" {
		if m, _ := path.Match("logs-*-*", name); m {
			return "logs", map[string]any{"composed_of": []any{"logs@mappings", "logs@settings", "ecs@mappings"}, "data_stream": map[string]any{}}
		}
	}
	return best, bestObj
}

func (c *Cluster) createStream(name string) (*stream, error) {
	tmpl, obj := c.matching(name)
	if tmpl == "" {
		return nil, fmt.Errorf("no matching index template found for data stream [%s]", name)
	}
	if _, ok := obj["data_stream"]; !ok {
		return nil, fmt.Errorf("matching index template [%s] for data stream [%s] has no data stream template", tmpl, name)
	}
	s := &stream{template: tmpl}
	if t, ok := obj["template"].(map[string]any); ok {
		if l, ok := t["lifecycle"].(map[string]any); ok {
			s.lifecycle = l
		}
	}
	c.streams[name] = s
	s.indices = append(s.indices, c.newBacking(name, 1, obj))
	return s, nil
}

// newBacking is a backing index made from the template obj.
func (c *Cluster) newBacking(ds string, gen int, obj map[string]any) *backing {
	b := &backing{name: fmt.Sprintf(".ds-%s-2026.01.01-%06d", ds, gen), preferILM: true}
	if slices.Contains(strs(obj["composed_of"]), "logs@settings") {
		b.policy = "logs@lifecycle"
	}
	if t, ok := obj["template"].(map[string]any); ok {
		if s, ok := t["settings"].(map[string]any); ok {
			if n, ok := s["index.lifecycle.name"].(string); ok {
				b.policy = n
			}
			if p, ok := s["index.lifecycle.prefer_ilm"].(bool); ok {
				b.preferILM = p
			}
		}
	}
	return b
}

func managedBy(s *stream, b *backing) string {
	switch {
	case b.policy != "" && (b.preferILM || s.lifecycle == nil):
		return "Index Lifecycle Management"
	case s.lifecycle != nil:
		return "Data stream lifecycle"
	}
	return "Unmanaged"
}

func (c *Cluster) rollover(name string, s *stream) error {
	tmpl, obj := c.matching(name)
	if tmpl == "" {
		return fmt.Errorf("no matching index template for [%s]", name)
	}
	s.template = tmpl
	s.indices = append(s.indices, c.newBacking(name, len(s.indices)+1, obj))
	s.lazy = false
	return nil
}

func (c *Cluster) dataStream(method, name string) (int, any) {
	switch method {
	case http.MethodGet:
		s, ok := c.streams[name]
		if !ok {
			return esErr(404, "index_not_found_exception", "no such index ["+name+"]")
		}
		var idx []any
		for _, b := range s.indices {
			idx = append(idx, map[string]any{"index_name": b.name, "index_uuid": "u-" + b.name, "prefer_ilm": b.preferILM,
				"ilm_policy": b.policy, "managed_by": managedBy(s, b)})
		}
		ds := map[string]any{"name": name, "timestamp_field": map[string]any{"name": "@timestamp"}, "indices": idx,
			"generation": len(s.indices), "status": "GREEN", "template": s.template, "hidden": false}
		if s.lifecycle != nil {
			life := map[string]any{"enabled": true}
			for k, v := range s.lifecycle {
				life[k] = v
			}
			ds["lifecycle"] = life
		}
		return 200, map[string]any{"data_streams": []any{ds}}
	case http.MethodPut:
		if _, ok := c.streams[name]; ok {
			return esErr(400, "resource_already_exists_exception", "data_stream ["+name+"] already exists")
		}
		if _, err := c.createStream(name); err != nil {
			return esErr(400, "illegal_argument_exception", err.Error())
		}
		return 200, ack
	}
	return esErr(405, "method_not_allowed", method)
}

// settings applies index.lifecycle.name and .prefer_ilm to every backing
// index of a data stream.
func (c *Cluster) settings(name string, body []byte) (int, any) {
	s, ok := c.streams[name]
	if !ok {
		return esErr(404, "index_not_found_exception", "no such index ["+name+"]")
	}
	var req struct {
		Index struct {
			Lifecycle struct {
				Name      *string `json:"name"`
				PreferILM *bool   `json:"prefer_ilm"`
			} `json:"lifecycle"`
		} `json:"index"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return esErr(400, "parse_exception", err.Error())
	}
	for _, b := range s.indices {
		if req.Index.Lifecycle.Name != nil {
			b.policy = *req.Index.Lifecycle.Name
		}
		if req.Index.Lifecycle.PreferILM != nil {
			b.preferILM = *req.Index.Lifecycle.PreferILM
		}
	}
	return 200, ack
}
