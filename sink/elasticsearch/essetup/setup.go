package essetup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Transport sends one request to the cluster: an elastictransport.Client
// (elasticsearch.Transport returns the sink's), a go-elasticsearch client,
// or anything with this method. Requests carry a path and query only; the
// transport supplies the node and the credentials.
type Transport interface {
	Perform(*http.Request) (*http.Response, error)
}

// Result is what Setup did.
type Result struct {
	Version Version
	Mode    Mode
	Names   Names
	Sent    []Request // the writes, in order
	// Unchanged lists the objects whose digest matched: nothing was sent
	// for them.
	Unchanged []string
	// Notes are things the operator should know (retention unlimited, a
	// rollover that applies the new mappings at the next write).
	Notes []string
}

// ErrForbidden is wrapped by every error about a missing privilege.
var ErrForbidden = errors.New("missing privilege")

// state is what the cluster has of our objects.
type state struct {
	hashes    map[string]string // what → _meta.pipelog_hash ("" : exists, not ours)
	dsExists  bool
	dsTmpl    string
	retention string // the data stream's lifecycle retention; "" infinite
	dsLife    bool   // the data stream has a data stream lifecycle
	ilmIdx    []string
	policies  map[string]bool // ILM policy names of backing indices
}

// Setup installs cfg on the cluster behind tr and returns what it did. See
// the package comment. Objects of our names that pipelog did not create
// are left alone unless cfg.Force is set.
//
// To an existing data stream it also sends what makes the new setup apply:
// its data stream lifecycle (PUT _data_stream/<name>/_lifecycle), the
// lifecycle settings of its backing indices (PUT <name>/_settings), and a
// rollover (lazy from 8.13: at the next write) when its mappings or template
// changed, since templates only shape new backing indices.
func Setup(ctx context.Context, tr Transport, cfg Config) (*Result, error) {
	c := &client{ctx: ctx, tr: tr}
	v, err := c.version(cfg.Version)
	if err != nil {
		return nil, err
	}
	d, err := cfg.build(v)
	if err != nil {
		return nil, err
	}
	res := &Result{Version: v, Mode: d.mode, Names: d.names}
	st, err := c.state(d)
	if err != nil {
		return nil, err
	}
	var foreign []string
	for _, what := range []string{"ilm", "component", "index"} {
		if h, ok := st.hashes[what]; ok && h == "" && d.hashes[what] != "" {
			foreign = append(foreign, d.objectName(what))
		}
	}
	if len(foreign) > 0 && !cfg.Force {
		return nil, fmt.Errorf("essetup: %s exist but were not created by pipelog (no _meta.managed_by): set Force (--force) to replace them", strings.Join(foreign, ", "))
	}
	reqs := d.requests(st)
	for _, what := range []string{"ilm", "component", "index"} {
		if h, ok := st.hashes[what]; ok && h == d.hashes[what] {
			res.Unchanged = append(res.Unchanged, d.objectName(what))
		}
	}
	if len(reqs) > 0 {
		if err := c.checkPrivileges(reqs, d.names.DataStream); err != nil {
			return nil, err
		}
	}
	for i, r := range reqs {
		if err := c.do(r.Method, r.Path, r.Body, nil); err != nil {
			var pe *ResponseError
			if errors.As(err, &pe) && pe.Status == http.StatusForbidden {
				err = fmt.Errorf("%w (needs %s)", err, privilegeName(r.Privilege))
			}
			return res, &StepError{Done: reqs[:i], Failed: r, Pending: reqs[i+1:], Err: err}
		}
		res.Sent = append(res.Sent, r)
	}
	res.Notes = d.notes(st, res.Sent)
	return res, nil
}

func (d *desired) objectName(what string) string {
	switch what {
	case "ilm":
		return "ILM policy " + d.names.ILMPolicy
	case "component":
		return "component template " + d.names.ComponentTemplate
	}
	return "index template " + d.names.IndexTemplate
}

// streamRequests are the writes to an existing data stream.
func (d *desired) streamRequests(st *state, templatesChanged bool) []Request {
	ds := url.PathEscape(d.names.DataStream)
	var out []Request
	switch d.mode {
	case ModeDSL:
		if !st.dsLife || st.retention != d.retention {
			body := map[string]any{}
			if d.retention != "" {
				body["data_retention"] = d.retention
			}
			b, _ := marshal(body)
			out = append(out, Request{Method: "PUT", Path: "/_data_stream/" + ds + "/_lifecycle", Body: b,
				Privilege: "index:manage_data_stream_lifecycle", Reason: fmt.Sprintf("retention %s → %s", orForever(st.retention, st.dsLife), orForever(d.retention, true))})
		}
		if len(st.ilmIdx) > 0 {
			b, _ := marshal(map[string]any{"index": map[string]any{"lifecycle": map[string]any{"prefer_ilm": false}}})
			out = append(out, Request{Method: "PUT", Path: "/" + ds + "/_settings", Body: b, Privilege: "index:manage",
				Reason: "backing indices managed by ILM (" + strings.Join(st.ilmIdx, ", ") + ") move to the data stream lifecycle"})
		}
	case ModeBuiltIn:
		if st.dsLife && st.retention != "" {
			// A retention set before: keep what exists from now on too.
			out = append(out, Request{Method: "PUT", Path: "/_data_stream/" + ds + "/_lifecycle", Body: []byte("{}"),
				Privilege: "index:manage_data_stream_lifecycle", Reason: "retention " + st.retention + " → forever"})
		}
	case ModeILM:
		if len(st.policies) != 1 || !st.policies[d.names.ILMPolicy] {
			b, _ := marshal(map[string]any{"index": map[string]any{"lifecycle": map[string]any{"name": d.names.ILMPolicy, "prefer_ilm": true}}})
			out = append(out, Request{Method: "PUT", Path: "/" + ds + "/_settings", Body: b, Privilege: "index:manage",
				Reason: "backing indices move to ILM policy " + d.names.ILMPolicy})
		}
	}
	if templatesChanged || st.dsTmpl != d.names.IndexTemplate {
		path, when := "/"+ds+"/_rollover?lazy=true", "at the next write"
		if !d.version.Serverless && !d.version.AtLeast(8, 13) {
			path, when = "/"+ds+"/_rollover", "now" // lazy rollover came in 8.13
		}
		out = append(out, Request{Method: "POST", Path: path, Privilege: "index:manage",
			Reason: "the write index was made from " + orNone(st.dsTmpl) + " or older mappings: roll over " + when})
	}
	return out
}

func orForever(r string, set bool) string {
	switch {
	case !set:
		return "none"
	case r == "":
		return "forever"
	}
	return r
}

func orNone(s string) string {
	if s == "" {
		return "another template"
	}
	return "template " + s
}

func (d *desired) notes(st *state, sent []Request) []string {
	var out []string
	switch d.mode {
	case ModeBuiltIn:
		out = append(out, "retention is unlimited: the built-in logs@lifecycle policy rolls over (30 days or 50 GB per primary shard) but never deletes; set a retention (--retention 30d) to delete old data")
	case ModeDSL:
		if d.retention == "" {
			out = append(out, "retention is unlimited: the data stream lifecycle keeps data forever")
		}
	}
	for _, r := range sent {
		if r.Method == "POST" && strings.Contains(r.Path, "/_rollover") {
			out = append(out, "the data stream rolls over (lazily: at its next write): documents already written keep the mappings they were indexed with")
		}
	}
	return out
}

// show is a request path as the errors print it: "_index_template/x", "/".
func show(path string) string {
	if p := strings.TrimPrefix(path, "/"); p != "" {
		return p
	}
	return "/"
}

type client struct {
	ctx context.Context
	tr  Transport
}

// do sends one request and decodes a 2xx answer into out (nil: discard).
// A 404 is *ResponseError{Status: 404}.
func (c *client) do(method, path string, body []byte, out any) error {
	u, err := url.Parse(path)
	if err != nil {
		return fmt.Errorf("essetup: %w", err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("essetup: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.tr.Perform(req)
	if err != nil {
		return fmt.Errorf("essetup: %s %s: %w", method, show(path), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("essetup: %s %s: reading the answer: %w", method, show(path), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		re := &ResponseError{Method: method, Path: path, Status: resp.StatusCode}
		var e struct {
			Error struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil {
			re.Type, re.Reason = e.Error.Type, e.Error.Reason
		}
		return re
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("essetup: %s %s: %w", method, show(path), err)
		}
	}
	return nil
}

// read is do for a GET whose 403 names the privilege it needs.
func (c *client) read(path, privilege string, out any) (found bool, err error) {
	err = c.do("GET", path, nil, out)
	var re *ResponseError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &re) && re.Status == http.StatusNotFound:
		return false, nil
	case errors.As(err, &re) && (re.Status == http.StatusForbidden || re.Status == http.StatusUnauthorized):
		if re.Status == http.StatusUnauthorized {
			return false, fmt.Errorf("essetup: %w: check the credentials", err)
		}
		return false, &PrivilegeError{Missing: []string{privilegeName(privilege)}, Detail: re.Reason}
	}
	return false, err
}

func (c *client) version(given string) (Version, error) {
	if given != "" {
		return ParseVersion(given)
	}
	var info struct {
		Version struct {
			Number      string `json:"number"`
			BuildFlavor string `json:"build_flavor"`
		} `json:"version"`
	}
	if _, err := c.read("/", "cluster:monitor", &info); err != nil {
		var pe *PrivilegeError
		if errors.As(err, &pe) {
			pe.Detail = strings.TrimSpace(pe.Detail + "; or give the version (--es-version)")
		}
		return Version{}, err
	}
	v, err := ParseVersion(info.Version.Number)
	if err != nil {
		return v, err
	}
	v.Serverless = info.Version.BuildFlavor == "serverless"
	return v, nil
}

// state reads what the cluster has of our objects.
func (c *client) state(d *desired) (*state, error) {
	st := &state{hashes: map[string]string{}, policies: map[string]bool{}}
	n := d.names
	type meta struct {
		Meta struct {
			ManagedBy string `json:"managed_by"`
			Hash      string `json:"pipelog_hash"`
		} `json:"_meta"`
	}
	hashOf := func(m meta) string {
		if m.Meta.ManagedBy != "pipelog" {
			return ""
		}
		return m.Meta.Hash
	}
	if d.ilm != nil {
		var pol map[string]struct {
			Policy meta `json:"policy"`
		}
		found, err := c.read("/_ilm/policy/"+url.PathEscape(n.ILMPolicy), "cluster:manage_ilm", &pol)
		if err != nil {
			return nil, err
		}
		if found {
			st.hashes["ilm"] = hashOf(pol[n.ILMPolicy].Policy)
		}
	}
	for _, t := range []struct{ what, path, list, item string }{
		{"component", "/_component_template/" + url.PathEscape(n.ComponentTemplate), "component_templates", "component_template"},
		{"index", "/_index_template/" + url.PathEscape(n.IndexTemplate), "index_templates", "index_template"},
	} {
		var resp map[string][]map[string]json.RawMessage
		found, err := c.read(t.path, "cluster:manage_index_templates", &resp)
		if err != nil {
			return nil, err
		}
		if items := resp[t.list]; found && len(items) > 0 {
			var m meta
			if err := json.Unmarshal(items[0][t.item], &m); err != nil {
				return nil, fmt.Errorf("essetup: GET %s: %w", t.path, err)
			}
			st.hashes[t.what] = hashOf(m)
		}
	}
	var ds struct {
		DataStreams []struct {
			Template  string `json:"template"`
			Lifecycle *struct {
				Enabled       *bool  `json:"enabled"`
				DataRetention string `json:"data_retention"`
			} `json:"lifecycle"`
			Indices []struct {
				Name      string `json:"index_name"`
				ILMPolicy string `json:"ilm_policy"`
				ManagedBy string `json:"managed_by"`
			} `json:"indices"`
		} `json:"data_streams"`
	}
	found, err := c.read("/_data_stream/"+url.PathEscape(n.DataStream), "index:view_index_metadata", &ds)
	if err != nil {
		return nil, err
	}
	if found && len(ds.DataStreams) > 0 {
		s := ds.DataStreams[0]
		st.dsExists, st.dsTmpl = true, s.Template
		if s.Lifecycle != nil && (s.Lifecycle.Enabled == nil || *s.Lifecycle.Enabled) {
			st.dsLife, st.retention = true, s.Lifecycle.DataRetention
		}
		for _, ix := range s.Indices {
			if ix.ManagedBy == "Index Lifecycle Management" {
				st.ilmIdx = append(st.ilmIdx, ix.Name)
			}
			st.policies[ix.ILMPolicy] = true
		}
	}
	return st, nil
}

// privilegeName turns "cluster:manage_ilm" into "cluster privilege
// manage_ilm".
func privilegeName(p string) string {
	kind, name, _ := strings.Cut(p, ":")
	return kind + " privilege " + name
}

// checkPrivileges asks _has_privileges for what reqs need, and fails,
// before anything is written, naming what is missing. A cluster without
// security (the API answers 4xx/5xx other than 401/403) has no privileges
// to lack.
func (c *client) checkPrivileges(reqs []Request, dataStream string) error {
	var cluster, index []string
	for _, r := range reqs {
		kind, name, _ := strings.Cut(r.Privilege, ":")
		switch {
		case kind == "cluster" && !slices.Contains(cluster, name):
			cluster = append(cluster, name)
		case kind == "index" && !slices.Contains(index, name):
			index = append(index, name)
		}
	}
	body := map[string]any{"cluster": cluster}
	if len(index) > 0 {
		body["index"] = []map[string]any{{"names": []string{dataStream}, "privileges": index}}
	}
	b, _ := json.Marshal(body)
	var resp struct {
		Username string                     `json:"username"`
		HasAll   bool                       `json:"has_all_requested"`
		Cluster  map[string]bool            `json:"cluster"`
		Index    map[string]map[string]bool `json:"index"`
	}
	err := c.do("POST", "/_security/user/_has_privileges", b, &resp)
	var re *ResponseError
	switch {
	case errors.As(err, &re) && (re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden):
		return fmt.Errorf("essetup: %w: check the credentials", err)
	case errors.As(err, &re):
		return nil // no security: nothing to lack
	case err != nil:
		return err
	case resp.HasAll:
		return nil
	}
	pe := &PrivilegeError{User: resp.Username}
	for _, p := range cluster {
		if !resp.Cluster[p] {
			pe.Missing = append(pe.Missing, "cluster privilege "+p)
		}
	}
	for _, p := range index {
		if !resp.Index[dataStream][p] {
			pe.Missing = append(pe.Missing, "index privilege "+p+" on "+dataStream)
		}
	}
	if len(pe.Missing) == 0 {
		return nil
	}
	return pe
}
