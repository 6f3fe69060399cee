package esfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// Cluster is a fake of the Elasticsearch APIs the setup uses — component
// and index templates, ILM policies, data streams and their lifecycle,
// _has_privileges, the root endpoint's version — on top of the bulk fake
// (every other request goes to Server's handler). It keeps what it was
// given, validates bodies the way Elasticsearch does where a wrong body
// would otherwise pass unnoticed (unknown mapping types, missing component
// templates, overlapping patterns at one priority, phases and actions ILM
// does not have), records every call, and can refuse what a user's
// privileges do not allow.
type Cluster struct {
	*Server

	mu         sync.Mutex
	version    string
	flavor     string
	granted    map[string]bool // nil: security off
	user       string
	fail       func(method, path string) int
	calls      []Call
	components map[string]json.RawMessage
	templates  map[string]json.RawMessage
	policies   map[string]json.RawMessage
	streams    map[string]*stream
}

// Call is one request the fake received.
type Call struct {
	Method, Path string // path with its query
	Body         []byte
	Status       int
}

type stream struct {
	template  string
	lifecycle map[string]any // nil: none
	indices   []*backing
	lazy      bool // a lazy rollover is pending
}

type backing struct {
	name      string
	policy    string
	preferILM bool
}

// NewCluster starts a fake cluster of the given version ("9.1.0") with
// security off. Close it when done.
func NewCluster(version string) *Cluster {
	c := &Cluster{version: version, flavor: "default",
		components: map[string]json.RawMessage{}, templates: map[string]json.RawMessage{},
		policies: map[string]json.RawMessage{}, streams: map[string]*stream{}}
	c.Server = &Server{docs: map[string][]byte{}, creates: map[string]int{}, indexes: map[string]int{}}
	c.Server.Server = httptest.NewServer(http.HandlerFunc(c.handle))
	return c
}

// SetVersion changes the version the root endpoint reports (an upgrade);
// flavor "serverless" makes it a serverless project.
func (c *Cluster) SetVersion(version, flavor string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version, c.flavor = version, flavor
}

// Grant turns security on: the user has exactly these privileges
// ("cluster:manage_index_templates", "index:create_index"; "cluster:manage"
// and "index:manage" imply the narrower ones, "cluster:all" everything).
func (c *Cluster) Grant(user string, privileges ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.user = user
	c.granted = map[string]bool{}
	for _, p := range privileges {
		c.granted[p] = true
	}
}

// FailWith makes the fake answer status to requests for which fn returns
// non-zero, whatever the privileges say.
func (c *Cluster) FailWith(fn func(method, path string) int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = fn
}

// Calls returns the requests received so far, other than bulk requests.
func (c *Cluster) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Writes returns the calls that were not GETs or _has_privileges.
func (c *Cluster) Writes() []Call {
	var out []Call
	for _, k := range c.Calls() {
		if k.Method != http.MethodGet && !strings.HasSuffix(k.Path, "/_has_privileges") {
			out = append(out, k)
		}
	}
	return out
}

// ComponentTemplate, IndexTemplate and ILMPolicy return what was stored.
func (c *Cluster) ComponentTemplate(name string) json.RawMessage { return c.get(c.components, name) }
func (c *Cluster) IndexTemplate(name string) json.RawMessage     { return c.get(c.templates, name) }
func (c *Cluster) ILMPolicy(name string) json.RawMessage         { return c.get(c.policies, name) }

func (c *Cluster) get(m map[string]json.RawMessage, name string) json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m[name]
}

// StreamInfo is what the fake knows of a data stream.
type StreamInfo struct {
	Template    string
	Lifecycle   map[string]any
	Indices     int
	LazyPending bool
	// ManagedBy and Policies are per backing index.
	ManagedBy, Policies []string
}

// DataStream returns the data stream's state, if it exists.
func (c *Cluster) DataStream(name string) (StreamInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[name]
	if !ok {
		return StreamInfo{}, false
	}
	info := StreamInfo{Template: s.template, Lifecycle: s.lifecycle, Indices: len(s.indices), LazyPending: s.lazy}
	for _, b := range s.indices {
		info.ManagedBy = append(info.ManagedBy, managedBy(s, b))
		info.Policies = append(info.Policies, b.policy)
	}
	return info, true
}

// CreateDataStream makes a data stream as a first write would, from the
// matching index template (the built-in logs template when none of ours
// matches a logs-*-* name).
func (c *Cluster) CreateDataStream(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.createStream(name)
	return err
}

func (c *Cluster) handle(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	setup := p == "/" || strings.HasPrefix(p, "/_component_template") || strings.HasPrefix(p, "/_index_template") ||
		strings.HasPrefix(p, "/_ilm/") || strings.HasPrefix(p, "/_data_stream") || strings.HasPrefix(p, "/_security/") ||
		strings.HasSuffix(p, "/_settings") || strings.HasSuffix(p, "/_rollover")
	if !setup {
		c.Server.handle(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	status, out := c.route(r.Method, p, r.URL.Query(), body)
	c.calls = append(c.calls, Call{Method: r.Method, Path: r.URL.RequestURI(), Body: body, Status: status})
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(out)
	_, _ = w.Write(b)
}

func esErr(status int, typ, reason string) (int, any) {
	return status, map[string]any{"error": map[string]any{"root_cause": []any{map[string]any{"type": typ, "reason": reason}}, "type": typ, "reason": reason}, "status": status}
}

var ack = map[string]any{"acknowledged": true}

// route answers one request; c.mu is held.
func (c *Cluster) route(method, p string, q map[string][]string, body []byte) (int, any) {
	if c.fail != nil {
		if st := c.fail(method, p); st != 0 {
			return esErr(st, "injected_exception", "injected failure")
		}
	}
	if p == "/_security/user/_has_privileges" {
		return c.hasPrivileges(body)
	}
	if need, action := privilegeFor(method, p); need != "" && !c.allowed(need) {
		kind, name, _ := strings.Cut(need, ":")
		return esErr(403, "security_exception", fmt.Sprintf("action [%s] is unauthorized for user [%s] with effective roles [limited], this action is granted by the %s privileges [%s,manage,all]", action, c.user, kind, name))
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case p == "/" && method == http.MethodGet:
		return 200, map[string]any{"name": "esfake", "cluster_name": "esfake", "version": map[string]any{"number": c.version, "build_flavor": c.flavor}, "tagline": "You Know, for Search"}
	case parts[0] == "_component_template" && len(parts) == 2:
		return c.object(method, parts[1], body, c.components, "component_templates", "component_template", c.validateComponent)
	case parts[0] == "_index_template" && len(parts) == 2:
		return c.object(method, parts[1], body, c.templates, "index_templates", "index_template", c.validateIndexTemplate)
	case parts[0] == "_ilm" && len(parts) == 3 && parts[1] == "policy":
		return c.policy(method, parts[2], body)
	case parts[0] == "_data_stream" && len(parts) == 2:
		return c.dataStream(method, parts[1])
	case parts[0] == "_data_stream" && len(parts) == 3 && parts[2] == "_lifecycle" && method == http.MethodPut:
		s, ok := c.streams[parts[1]]
		if !ok {
			return esErr(404, "index_not_found_exception", "no such index ["+parts[1]+"]")
		}
		var life map[string]any
		if err := json.Unmarshal(body, &life); err != nil {
			return esErr(400, "parse_exception", err.Error())
		}
		for k := range life {
			if k != "data_retention" && k != "enabled" && k != "downsampling" {
				return esErr(400, "x_content_parse_exception", "unknown field ["+k+"]")
			}
		}
		s.lifecycle = life
		return 200, ack
	case len(parts) == 2 && parts[1] == "_settings" && method == http.MethodPut:
		return c.settings(parts[0], body)
	case len(parts) == 2 && parts[1] == "_rollover" && method == http.MethodPost:
		s, ok := c.streams[parts[0]]
		if !ok {
			return esErr(404, "index_not_found_exception", "no such index ["+parts[0]+"]")
		}
		if _, lazy := q["lazy"]; lazy {
			if !c.atLeast(8, 13) {
				return esErr(400, "illegal_argument_exception", "request [POST /"+parts[0]+"/_rollover] contains unrecognized parameter: [lazy]")
			}
			s.lazy = true
			return 200, map[string]any{"acknowledged": true, "rolled_over": false, "lazy": true}
		}
		if err := c.rollover(parts[0], s); err != nil {
			return esErr(400, "illegal_argument_exception", err.Error())
		}
		return 200, map[string]any{"acknowledged": true, "rolled_over": true}
	}
	return esErr(400, "illegal_argument_exception", "esfake: unsupported "+method+" "+p)
}

// privilegeFor is the privilege a request needs, and its action name.
func privilegeFor(method, p string) (string, string) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	write := method != http.MethodGet
	switch {
	case p == "/":
		return "cluster:monitor", "cluster:monitor/main"
	case parts[0] == "_component_template":
		if write {
			return "cluster:manage_index_templates", "cluster:admin/component_template/put"
		}
		return "cluster:manage_index_templates", "cluster:admin/component_template/get"
	case parts[0] == "_index_template":
		if write {
			return "cluster:manage_index_templates", "indices:admin/index_template/put"
		}
		return "cluster:manage_index_templates", "indices:admin/index_template/get"
	case parts[0] == "_ilm":
		if write {
			return "cluster:manage_ilm", "cluster:admin/ilm/put"
		}
		return "cluster:manage_ilm", "cluster:admin/ilm/get"
	case parts[0] == "_data_stream" && len(parts) == 3:
		return "index:manage_data_stream_lifecycle", "indices:admin/data_stream/lifecycle/put"
	case parts[0] == "_data_stream" && write:
		return "index:create_index", "indices:admin/data_stream/create"
	case parts[0] == "_data_stream":
		return "index:view_index_metadata", "indices:admin/data_stream/get"
	case len(parts) == 2 && parts[1] == "_settings":
		return "index:manage", "indices:admin/settings/update"
	case len(parts) == 2 && parts[1] == "_rollover":
		return "index:manage", "indices:admin/rollover"
	}
	return "", ""
}

func (c *Cluster) allowed(p string) bool {
	if c.granted == nil || c.granted[p] || c.granted["cluster:all"] {
		return true
	}
	kind, name, _ := strings.Cut(p, ":")
	switch kind {
	case "cluster": // manage covers monitor, manage_index_templates and manage_ilm
		return c.granted["cluster:manage"]
	case "index":
		if c.granted["index:manage"] || c.granted["index:all"] {
			return true
		}
		return name == "view_index_metadata" && c.granted["index:manage_data_stream_lifecycle"]
	}
	return false
}

func (c *Cluster) hasPrivileges(body []byte) (int, any) {
	if c.granted == nil {
		return esErr(400, "illegal_state_exception", "Security must be explicitly enabled when using a [basic] license")
	}
	var req struct {
		Cluster []string `json:"cluster"`
		Index   []struct {
			Names      []string `json:"names"`
			Privileges []string `json:"privileges"`
		} `json:"index"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return esErr(400, "parse_exception", err.Error())
	}
	all := true
	cl := map[string]bool{}
	for _, p := range req.Cluster {
		cl[p] = c.allowed("cluster:" + p)
		all = all && cl[p]
	}
	ix := map[string]map[string]bool{}
	for _, i := range req.Index {
		for _, n := range i.Names {
			ix[n] = map[string]bool{}
			for _, p := range i.Privileges {
				ix[n][p] = c.allowed("index:" + p)
				all = all && ix[n][p]
			}
		}
	}
	return 200, map[string]any{"username": c.user, "has_all_requested": all, "cluster": cl, "index": ix, "application": map[string]any{}}
}

// object serves GET and PUT of a named template.
func (c *Cluster) object(method, name string, body []byte, store map[string]json.RawMessage, listKey, itemKey string, validate func(string, map[string]any) error) (int, any) {
	switch method {
	case http.MethodGet:
		b, ok := store[name]
		if !ok {
			return esErr(404, "resource_not_found_exception", itemKey+" matching ["+name+"] not found")
		}
		return 200, map[string]any{listKey: []any{map[string]any{"name": name, itemKey: b}}}
	case http.MethodPut:
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return esErr(400, "x_content_parse_exception", err.Error())
		}
		if err := validate(name, obj); err != nil {
			return esErr(400, "illegal_argument_exception", err.Error())
		}
		store[name] = append(json.RawMessage(nil), body...)
		return 200, ack
	}
	return esErr(405, "method_not_allowed", method)
}

var ilmActions = map[string][]string{
	"hot":    {"rollover", "set_priority", "forcemerge", "shrink", "readonly", "downsample", "searchable_snapshot", "unfollow"},
	"warm":   {"set_priority", "allocate", "migrate", "forcemerge", "shrink", "readonly", "downsample", "unfollow"},
	"cold":   {"set_priority", "allocate", "migrate", "readonly", "downsample", "searchable_snapshot", "unfollow"},
	"frozen": {"searchable_snapshot", "unfollow"},
	"delete": {"wait_for_snapshot", "delete"},
}

func (c *Cluster) policy(method, name string, body []byte) (int, any) {
	switch method {
	case http.MethodGet:
		b, ok := c.policies[name]
		if !ok {
			return esErr(404, "resource_not_found_exception", "Lifecycle policy not found: "+name)
		}
		var p struct {
			Policy json.RawMessage `json:"policy"`
		}
		_ = json.Unmarshal(b, &p)
		return 200, map[string]any{name: map[string]any{"version": 1, "modified_date": "2026-01-01T00:00:00.000Z", "policy": p.Policy}}
	case http.MethodPut:
		var p struct {
			Policy map[string]json.RawMessage `json:"policy"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Policy == nil {
			return esErr(400, "x_content_parse_exception", "[put_lifecycle_request] requires [policy]")
		}
		for k := range p.Policy {
			if k != "phases" && k != "_meta" {
				return esErr(400, "x_content_parse_exception", "[lifecycle_policy] unknown field ["+k+"]")
			}
		}
		var phases map[string]struct {
			MinAge  string                     `json:"min_age"`
			Actions map[string]json.RawMessage `json:"actions"`
		}
		if err := json.Unmarshal(p.Policy["phases"], &phases); err != nil {
			return esErr(400, "x_content_parse_exception", err.Error())
		}
		for ph, def := range phases {
			allowed, ok := ilmActions[ph]
			if !ok {
				return esErr(400, "illegal_argument_exception", "Timeseries lifecycle does not support phase ["+ph+"]")
			}
			for a := range def.Actions {
				if !slices.Contains(allowed, a) {
					return esErr(400, "illegal_argument_exception", "invalid action ["+a+"] defined in phase ["+ph+"]")
				}
			}
		}
		c.policies[name] = append(json.RawMessage(nil), body...)
		return 200, ack
	}
	return esErr(405, "method_not_allowed", method)
}
