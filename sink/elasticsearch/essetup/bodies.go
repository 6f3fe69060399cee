// Package essetup installs what an Elasticsearch data stream of pipelog's
// lines needs: a component template with the explicit mappings of the
// fields pipelog writes, an index template for logs-<dataset>-* composed on
// the built-in logs@mappings, logs@settings and ecs@mappings, a lifecycle
// (data stream lifecycle retention, or an ILM policy with rollover, data
// tiers and deletion), and the data stream itself.
//
// It knows request bodies, not events: the mappings come in as bytes
// (Config.Mappings; package esmapping generates them from Go types, and
// package pipelogsetup joins the two for programs and the CLI). Nothing
// here runs on its own: the Elasticsearch sink never calls it; a program or
// an operator does (Setup, or `pipelog setup`).
//
// Setup is idempotent: every object carries _meta.pipelog_hash, a digest of
// its body, and a second run that finds the same digests sends no PUT. It
// asks the cluster's version first (the data stream lifecycle is GA from
// 8.14; older clusters get an ILM policy; serverless projects have no ILM),
// checks the privileges it will need with _has_privileges before writing
// anything, and fails with an error naming each missing privilege.
//
// The package imports the standard library and the module's data stream
// naming rules (the sink's), nothing of events.
package essetup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pipelog/pipelog/internal/dsname"
)

// Config says what Setup installs.
type Config struct {
	// The data stream: "<Type>-<Dataset>-<Namespace>", sanitised as the
	// Elasticsearch sink sanitises them (elasticsearch.DataStreamName).
	// Type must be "logs" (the built-in templates composed are logs').
	Type, Dataset, Namespace string
	// Mappings is the "mappings" object of the component template
	// ({"dynamic_templates":…,"properties":…}), from esmapping.
	Mappings json.RawMessage
	// Lifecycle: retention, rollover, data tiers.
	Lifecycle Lifecycle
	// Priority of the index template (default 250: above the built-in
	// logs template's 100 and Fleet's 200 for the same pattern).
	Priority int
	// TotalFieldsLimit sets index.mapping.total_fields.limit (0: leave
	// Elasticsearch's default, 1000).
	TotalFieldsLimit int
	// Meta is added to every object's _meta (what was mapped, by whom).
	Meta map[string]any
	// Force replaces objects of our names that pipelog did not create (no
	// _meta.managed_by "pipelog"); without it Setup refuses to touch them.
	Force bool
	// Version, when set ("8.17.1"), is used instead of asking the cluster
	// (a user without the monitor privilege).
	Version string
}

// Lifecycle is how long data lives and where.
type Lifecycle struct {
	// Retention deletes data this old. Zero keeps it forever: the
	// built-in logs@lifecycle policy then stays in charge, and it only
	// rolls over (30 days or 50 GB per primary shard), it never deletes.
	Retention time.Duration
	// ILM makes an ILM policy even where the data stream lifecycle is
	// available (8.14 on). Data tiers imply it.
	ILM bool
	// Rollover of the ILM policy's hot phase: a new backing index after
	// RolloverMaxAge (default 30 days) or RolloverMaxPrimaryShardSize
	// (default "50gb"), as logs@lifecycle does. With ILM, Retention counts
	// from the rollover: an event lives up to RolloverMaxAge + Retention.
	RolloverMaxAge              time.Duration
	RolloverMaxPrimaryShardSize string
	// WarmAfter and ColdAfter move a backing index, that long after its
	// rollover, to the warm and cold data tiers (nodes with those roles).
	WarmAfter, ColdAfter time.Duration
}

// Mode is how the lifecycle is managed.
type Mode string

const (
	ModeBuiltIn Mode = "built-in" // nothing set: logs@settings' logs@lifecycle (rollover only)
	ModeDSL     Mode = "data stream lifecycle"
	ModeILM     Mode = "ILM"
)

// Names are the names of what Setup installs for a Config.
type Names struct {
	DataStream        string // logs-orders_etl-default
	IndexPattern      string // logs-orders_etl-*
	ComponentTemplate string // pipelog-logs-orders_etl-mappings
	IndexTemplate     string // pipelog-logs-orders_etl
	ILMPolicy         string // pipelog-logs-orders_etl
	CustomTemplates   []string
}

// NamesOf returns the names for cfg.
func NamesOf(cfg Config) Names {
	typ := dsname.Part(cfg.Type, dsname.DefaultType)
	ds := dsname.Part(cfg.Dataset, dsname.DefaultDataset)
	base := "pipelog-" + typ + "-" + ds
	return Names{
		DataStream:        dsname.Name(cfg.Type, cfg.Dataset, cfg.Namespace),
		IndexPattern:      typ + "-" + ds + "-*",
		ComponentTemplate: base + "-mappings",
		IndexTemplate:     base,
		ILMPolicy:         base,
		CustomTemplates:   []string{typ + "@custom", typ + "-" + ds + "@custom"},
	}
}

// Request is one request Setup sends.
type Request struct {
	Method string
	Path   string // with its query, "/_component_template/pipelog-logs-x-mappings"
	Body   []byte // nil: none
	// Privilege is what it needs: "cluster:manage_index_templates",
	// "index:create_index".
	Privilege string
	// Reason says why Setup sends it ("new", "changed", …).
	Reason string
}

func (r Request) String() string { return r.Method + " " + show(r.Path) }

// Version is an Elasticsearch version.
type Version struct {
	Major, Minor, Patch int
	Serverless          bool
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Serverless {
		s += " (serverless)"
	}
	return s
}

// AtLeast reports v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// ParseVersion parses "9.1.3" (a suffix such as "-SNAPSHOT" is ignored).
func ParseVersion(s string) (Version, error) {
	var v Version
	core, _, _ := strings.Cut(s, "-")
	n, err := fmt.Sscanf(core, "%d.%d.%d", &v.Major, &v.Minor, &v.Patch)
	if err != nil && n < 2 {
		return v, fmt.Errorf("essetup: version %q: want major.minor.patch", s)
	}
	return v, nil
}

// Latest is the version Bodies assumes when it is not told one.
var Latest = Version{Major: 9, Minor: 1}

// MinVersion is the oldest release Setup supports: 8.12 named the
// built-in component templates logs@mappings, logs@settings and
// ecs@mappings.
var MinVersion = Version{Major: 8, Minor: 12}

// ModeFor is the lifecycle mode Setup uses for cfg on a cluster of v.
func ModeFor(cfg Config, v Version) (Mode, error) {
	lc := cfg.Lifecycle
	tiers := lc.WarmAfter > 0 || lc.ColdAfter > 0
	wantILM := lc.ILM || tiers || lc.RolloverMaxAge > 0 || lc.RolloverMaxPrimaryShardSize != ""
	switch {
	case v.Serverless && wantILM:
		return "", errors.New("essetup: serverless projects have no ILM (no data tiers, no custom rollover): set only a retention")
	case v.Serverless:
		return ModeDSL, nil
	case wantILM:
		return ModeILM, nil
	case lc.Retention <= 0:
		return ModeBuiltIn, nil
	case v.AtLeast(8, 14):
		return ModeDSL, nil
	}
	return ModeILM, nil // the data stream lifecycle is not GA before 8.14
}

// generation is the schema version of what this package writes; a change
// that makes older objects wrong bumps it (it is part of every digest).
const generation = 1

// desired is everything Setup wants on the cluster, before it looks.
type desired struct {
	version   Version
	names     Names
	mode      Mode
	component []byte
	index     []byte
	ilm       []byte // nil unless ModeILM
	retention string // ModeDSL: "30d"; "" infinite
	hashes    map[string]string
}

func (cfg *Config) check() error {
	if t := dsname.Part(cfg.Type, dsname.DefaultType); t != "logs" {
		return fmt.Errorf("essetup: data stream type %q: only logs is supported (the templates composed are logs@*)", t)
	}
	if len(cfg.Mappings) == 0 || !json.Valid(cfg.Mappings) || bytes.TrimSpace(cfg.Mappings)[0] != '{' {
		return errors.New("essetup: Config.Mappings must be a JSON object (esmapping's output)")
	}
	lc := cfg.Lifecycle
	if lc.Retention < 0 || lc.WarmAfter < 0 || lc.ColdAfter < 0 || lc.RolloverMaxAge < 0 {
		return errors.New("essetup: negative lifecycle durations")
	}
	if lc.WarmAfter > 0 && lc.ColdAfter > 0 && lc.ColdAfter <= lc.WarmAfter {
		return fmt.Errorf("essetup: cold after %s must be later than warm after %s", esDuration(lc.ColdAfter), esDuration(lc.WarmAfter))
	}
	for _, t := range []time.Duration{lc.WarmAfter, lc.ColdAfter} {
		if lc.Retention > 0 && t >= lc.Retention {
			return fmt.Errorf("essetup: data is deleted after %s, before it would move to a tier after %s", esDuration(lc.Retention), esDuration(t))
		}
	}
	if cfg.Priority < 0 || cfg.TotalFieldsLimit < 0 {
		return errors.New("essetup: negative priority or field limit")
	}
	return nil
}

func (cfg *Config) build(v Version) (*desired, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if !v.Serverless && !v.AtLeast(MinVersion.Major, MinVersion.Minor) {
		return nil, fmt.Errorf("essetup: Elasticsearch %s is older than %d.%d, the first release whose built-in templates (logs@mappings, logs@settings, ecs@mappings) this setup composes", v, MinVersion.Major, MinVersion.Minor)
	}
	mode, err := ModeFor(*cfg, v)
	if err != nil {
		return nil, err
	}
	d := &desired{version: v, names: NamesOf(*cfg), mode: mode, hashes: map[string]string{}}
	n := d.names
	priority := cfg.Priority
	if priority == 0 {
		priority = 250
	}

	var mappings any
	if err := json.Unmarshal(cfg.Mappings, &mappings); err != nil {
		return nil, fmt.Errorf("essetup: Config.Mappings: %w", err)
	}
	if !v.Serverless && !v.AtLeast(8, 16) {
		// ECS 9's mappings set synthetic_source_keep on array fields; the
		// parameter came in 8.16, and older releases refuse the mapping.
		dropParam(mappings, "synthetic_source_keep")
	}
	d.component, d.hashes["component"], err = cfg.body(map[string]any{
		"template": map[string]any{"mappings": mappings},
		"version":  generation,
	}, "explicit mappings of the fields pipelog writes to "+n.IndexPattern)
	if err != nil {
		return nil, err
	}

	settings := map[string]any{}
	tmpl := map[string]any{}
	lc := cfg.Lifecycle
	switch mode {
	case ModeDSL:
		if !v.Serverless { // serverless has no ILM, nor its settings
			settings["index.lifecycle.prefer_ilm"] = false // logs@settings names logs@lifecycle: ILM would win
		}
		life := map[string]any{}
		if lc.Retention > 0 {
			d.retention = esDuration(lc.Retention)
			life["data_retention"] = d.retention
		}
		tmpl["lifecycle"] = life
	case ModeILM:
		settings["index.lifecycle.name"] = n.ILMPolicy
		d.ilm, d.hashes["ilm"], err = cfg.ilmBody()
		if err != nil {
			return nil, err
		}
	}
	if cfg.TotalFieldsLimit > 0 {
		settings["index.mapping.total_fields.limit"] = cfg.TotalFieldsLimit
	}
	if len(settings) > 0 {
		tmpl["settings"] = settings
	}
	index := map[string]any{
		"index_patterns": []string{n.IndexPattern},
		"data_stream":    map[string]any{},
		"priority":       priority,
		// Our mappings come before ecs@mappings: properties merge in this
		// order (a later template wins), and dynamic templates keep the
		// position their name first had, so ours are tried before its
		// suffix rules. logs@custom and logs-<dataset>@custom stay the
		// user's to add, as in the built-in and Fleet templates.
		"composed_of":                        []string{"logs@mappings", "logs@settings", n.ComponentTemplate, n.CustomTemplates[0], n.CustomTemplates[1], "ecs@mappings"},
		"ignore_missing_component_templates": n.CustomTemplates,
		"allow_auto_create":                  true,
		"version":                            generation,
	}
	if len(tmpl) > 0 {
		index["template"] = tmpl
	}
	d.index, d.hashes["index"], err = cfg.body(index, "data stream "+n.IndexPattern+" of pipelog's lines ("+string(mode)+")")
	if err != nil {
		return nil, err
	}
	return d, nil
}

// dropParam removes the mapping parameter name from every field mapping
// below "properties" in m (a decoded mappings object).
func dropParam(m any, name string) {
	obj, ok := m.(map[string]any)
	if !ok {
		return
	}
	props, _ := obj["properties"].(map[string]any)
	for _, f := range props {
		if fm, ok := f.(map[string]any); ok {
			delete(fm, name)
			dropParam(fm, name)
		}
	}
}

func (cfg *Config) ilmBody() ([]byte, string, error) {
	lc := cfg.Lifecycle
	maxAge := lc.RolloverMaxAge
	if maxAge == 0 {
		maxAge = 30 * 24 * time.Hour
	}
	size := lc.RolloverMaxPrimaryShardSize
	if size == "" {
		size = "50gb"
	}
	phases := map[string]any{
		"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{
			"rollover":     map[string]any{"max_age": esDuration(maxAge), "max_primary_shard_size": size},
			"set_priority": map[string]any{"priority": 100},
		}},
	}
	// Warm and cold phases move the index to the nodes of that tier (the
	// implicit migrate action).
	if lc.WarmAfter > 0 {
		phases["warm"] = map[string]any{"min_age": esDuration(lc.WarmAfter), "actions": map[string]any{"set_priority": map[string]any{"priority": 50}}}
	}
	if lc.ColdAfter > 0 {
		phases["cold"] = map[string]any{"min_age": esDuration(lc.ColdAfter), "actions": map[string]any{"set_priority": map[string]any{"priority": 0}}}
	}
	if lc.Retention > 0 {
		phases["delete"] = map[string]any{"min_age": esDuration(lc.Retention), "actions": map[string]any{"delete": map[string]any{}}}
	}
	policy := map[string]any{"phases": phases}
	meta, hash, err := cfg.meta(policy, "lifecycle of pipelog's data stream "+NamesOf(*cfg).IndexPattern)
	if err != nil {
		return nil, "", err
	}
	policy["_meta"] = meta
	b, err := marshal(map[string]any{"policy": policy})
	return b, hash, err
}

// body adds _meta (with the digest of everything else) to obj and
// marshals it.
func (cfg *Config) body(obj map[string]any, description string) ([]byte, string, error) {
	meta, hash, err := cfg.meta(obj, description)
	if err != nil {
		return nil, "", err
	}
	obj["_meta"] = meta
	b, err := marshal(obj)
	return b, hash, err
}

func (cfg *Config) meta(obj map[string]any, description string) (map[string]any, string, error) {
	meta := map[string]any{}
	for k, v := range cfg.Meta {
		meta[k] = v
	}
	meta["description"] = "pipelog: " + description
	meta["managed_by"] = "pipelog"
	raw, err := json.Marshal(map[string]any{"body": obj, "meta": meta, "generation": generation})
	if err != nil {
		return nil, "", fmt.Errorf("essetup: %w", err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:12])
	meta["pipelog_hash"] = hash
	return meta, hash, nil
}

// marshal is indented JSON, keys sorted: the bytes --print shows are the
// bytes sent.
func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("essetup: %w", err)
	}
	return b, nil
}

// esDuration formats d in Elasticsearch's time units, the largest that
// divides it: "30d", "12h", "90m", "45s", "250ms".
func esDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		unit string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d%u.d == 0 {
			return fmt.Sprint(int64(d/u.d)) + u.unit
		}
	}
	return fmt.Sprint(int64(d/time.Microsecond)) + "micros"
}

// ParseDuration parses a duration in Go's syntax or with Elasticsearch's
// day unit: "30d", "36h", "90m".
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int64
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || fmt.Sprint(days) != n || days < 0 {
			return 0, fmt.Errorf("duration %q: want a whole number of days, like 30d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want 30d, 36h, 90m", s)
	}
	return d, nil
}

// Bodies returns the requests Setup would send for cfg to a cluster of
// version v (zero: Latest) that has none of its objects yet: what `pipelog
// setup --print` shows. To an existing data stream Setup may also send its
// lifecycle, settings and a rollover (see Setup).
func Bodies(cfg Config, v Version) ([]Request, error) {
	if v == (Version{}) {
		v = Latest
	}
	d, err := cfg.build(v)
	if err != nil {
		return nil, err
	}
	return d.requests(nil), nil
}

// requests are the writes for what state lacks (nil: everything).
func (d *desired) requests(st *state) []Request {
	n := d.names
	var out []Request
	put := func(path, privilege, what string, body []byte) {
		reason := "new"
		if st != nil {
			if h, ok := st.hashes[what]; ok {
				if h == d.hashes[what] {
					return
				}
				reason = "changed"
				if h == "" {
					reason = "not pipelog's"
				}
			}
		}
		out = append(out, Request{Method: "PUT", Path: path, Body: body, Privilege: privilege, Reason: reason})
	}
	if d.ilm != nil {
		put("/_ilm/policy/"+url.PathEscape(n.ILMPolicy), "cluster:manage_ilm", "ilm", d.ilm)
	}
	put("/_component_template/"+url.PathEscape(n.ComponentTemplate), "cluster:manage_index_templates", "component", d.component)
	put("/_index_template/"+url.PathEscape(n.IndexTemplate), "cluster:manage_index_templates", "index", d.index)
	ds := url.PathEscape(n.DataStream)
	if st == nil || !st.dsExists {
		out = append(out, Request{Method: "PUT", Path: "/_data_stream/" + ds, Privilege: "index:create_index", Reason: "new"})
		return out
	}
	return append(out, d.streamRequests(st, len(out) > 0)...)
}
