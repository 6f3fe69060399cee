package essetup_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink/elasticsearch"
	"github.com/pipelog/pipelog/sink/elasticsearch/essetup"
)

const stream = "logs-orders_etl-default"

func newFake(t *testing.T, version string) (*esfake.Cluster, essetup.Transport) {
	t.Helper()
	es := esfake.NewCluster(version)
	t.Cleanup(es.Close)
	tr, err := elasticsearch.Transport(elasticsearch.Config{Addresses: []string{es.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return es, tr
}

func writes(es *esfake.Cluster) []string {
	var out []string
	for _, c := range es.Writes() {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

func wantWrites(t *testing.T, es *esfake.Cluster, want ...string) {
	t.Helper()
	if got := writes(es); !slices.Equal(got, want) {
		t.Fatalf("writes:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func setup(t *testing.T, tr essetup.Transport, cfg essetup.Config) *essetup.Result {
	t.Helper()
	res, err := essetup.Setup(context.Background(), tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var retention30 = essetup.Config{Dataset: "orders-etl", Mappings: mappings, Lifecycle: essetup.Lifecycle{Retention: 30 * day}}

// A first run installs everything; a second sends no PUT at all.
func TestSetupIdempotent(t *testing.T) {
	es, tr := newFake(t, "9.1.0")
	res := setup(t, tr, retention30)
	if res.Mode != essetup.ModeDSL || res.Version.String() != "9.1.0" {
		t.Errorf("mode %s on %s", res.Mode, res.Version)
	}
	wantWrites(t, es,
		"PUT /_component_template/pipelog-logs-orders_etl-mappings",
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /_data_stream/"+stream)
	info, ok := es.DataStream(stream)
	if !ok || info.Template != "pipelog-logs-orders_etl" || fmt.Sprint(info.Lifecycle) != "map[data_retention:30d]" ||
		!slices.Equal(info.ManagedBy, []string{"Data stream lifecycle"}) {
		t.Fatalf("data stream %+v", info)
	}
	// What was stored is what Bodies prints.
	reqs, _ := essetup.Bodies(retention30, essetup.Version{Major: 9, Minor: 1})
	if string(es.ComponentTemplate("pipelog-logs-orders_etl-mappings")) != string(reqs[0].Body) {
		t.Error("the component template sent differs from the printed body")
	}

	n := len(es.Writes())
	res = setup(t, tr, retention30)
	if len(es.Writes()) != n || len(res.Sent) != 0 || len(res.Unchanged) != 2 {
		t.Fatalf("second run: sent %v, writes %v", res.Sent, writes(es)[n:])
	}
}

// The user lacks a privilege: the error names it and nothing is written.
func TestSetupMissingPrivilege(t *testing.T) {
	es, tr := newFake(t, "9.1.0")
	es.Grant("etl-writer", "cluster:monitor", "cluster:manage_index_templates", "index:view_index_metadata")
	_, err := essetup.Setup(context.Background(), tr, retention30)
	var pe *essetup.PrivilegeError
	if !errors.As(err, &pe) || !errors.Is(err, essetup.ErrForbidden) {
		t.Fatalf("%v", err)
	}
	msg := err.Error()
	for _, want := range []string{"etl-writer", "index privilege create_index on " + stream, "nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	wantWrites(t, es)

	// ILM needs manage_ilm: named too.
	ilm := retention30
	ilm.Lifecycle.ILM = true
	es.Grant("etl-writer", "cluster:monitor", "cluster:manage_index_templates", "index:view_index_metadata", "index:create_index")
	_, err = essetup.Setup(context.Background(), tr, ilm)
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "cluster privilege manage_ilm") {
		t.Fatalf("%v", err)
	}
	wantWrites(t, es)

	// Granted: it works, for the same user.
	es.Grant("etl-writer", "cluster:manage", "index:manage")
	setup(t, tr, ilm)
	if len(es.Writes()) != 4 {
		t.Fatalf("writes %v", writes(es))
	}
}

// Reading is refused (no manage_index_templates, or no monitor for the
// version): the error names the privilege before anything is sent.
func TestSetupReadRefused(t *testing.T) {
	es, tr := newFake(t, "9.1.0")
	es.Grant("u", "index:manage")
	_, err := essetup.Setup(context.Background(), tr, retention30)
	if err == nil || !strings.Contains(err.Error(), "cluster privilege monitor") || !strings.Contains(err.Error(), "--es-version") {
		t.Fatalf("%v", err)
	}
	cfg := retention30
	cfg.Version = "9.1.0"
	_, err = essetup.Setup(context.Background(), tr, cfg)
	if err == nil || !strings.Contains(err.Error(), "cluster privilege manage_index_templates") {
		t.Fatalf("%v", err)
	}
	wantWrites(t, es)
}

// One write refused after others succeeded: the error says what is
// installed and what is not; a rerun sends only what is missing.
func TestSetupPartialFailure(t *testing.T) {
	es, tr := newFake(t, "9.1.0")
	es.FailWith(func(method, path string) int {
		if method == http.MethodPut && strings.HasPrefix(path, "/_index_template/") {
			return http.StatusForbidden
		}
		return 0
	})
	_, err := essetup.Setup(context.Background(), tr, retention30)
	var se *essetup.StepError
	if !errors.As(err, &se) {
		t.Fatalf("%v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"PUT _index_template/pipelog-logs-orders_etl failed", "403 Forbidden", "needs cluster privilege manage_index_templates",
		"done before it: PUT _component_template/pipelog-logs-orders_etl-mappings",
		"not sent: PUT _data_stream/" + stream, "run setup again",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if _, ok := es.DataStream(stream); ok {
		t.Fatal("the data stream was created without its template")
	}
	es.FailWith(nil)
	n := len(es.Writes())
	setup(t, tr, retention30)
	wantWrites(t, es, append(writes(es)[:n], "PUT /_index_template/pipelog-logs-orders_etl", "PUT /_data_stream/"+stream)...)
}

// The cluster is upgraded from 8.13 (ILM: the data stream lifecycle is
// not GA) to 9.1: the index template moves to the data stream lifecycle,
// the existing data stream gets it, its ILM-managed backing indices move
// over, and it rolls over lazily; then nothing more.
func TestSetupClusterUpgrade(t *testing.T) {
	es, tr := newFake(t, "8.13.4")
	res := setup(t, tr, retention30)
	if res.Mode != essetup.ModeILM {
		t.Fatalf("8.13: %s", res.Mode)
	}
	wantWrites(t, es,
		"PUT /_ilm/policy/pipelog-logs-orders_etl",
		"PUT /_component_template/pipelog-logs-orders_etl-mappings",
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /_data_stream/"+stream)
	var pol struct {
		Policy struct {
			Phases map[string]json.RawMessage `json:"phases"`
		} `json:"policy"`
	}
	_ = json.Unmarshal(es.ILMPolicy("pipelog-logs-orders_etl"), &pol)
	if !strings.Contains(string(pol.Policy.Phases["delete"]), `"30d"`) {
		t.Errorf("ILM delete phase: %s", pol.Policy.Phases["delete"])
	}
	if info, _ := es.DataStream(stream); info.Policies[0] != "pipelog-logs-orders_etl" {
		t.Fatalf("backing index policy %v", info.Policies)
	}

	es.SetVersion("9.1.0", "default")
	n := len(es.Writes())
	res = setup(t, tr, retention30)
	if res.Mode != essetup.ModeDSL {
		t.Fatalf("9.1: %s", res.Mode)
	}
	wantWrites(t, es, append(writes(es)[:n],
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /_data_stream/"+stream+"/_lifecycle",
		"PUT /"+stream+"/_settings",
		"POST /"+stream+"/_rollover?lazy=true")...)
	golden(t, "upgrade-8.13-to-9.1.golden", renderCalls(es.Writes()[n:]))
	info, _ := es.DataStream(stream)
	if fmt.Sprint(info.Lifecycle) != "map[data_retention:30d]" || info.ManagedBy[0] != "Data stream lifecycle" || !info.LazyPending {
		t.Fatalf("after the upgrade: %+v", info)
	}
	if !slices.ContainsFunc(res.Notes, func(s string) bool { return strings.Contains(s, "rolls over") }) {
		t.Errorf("notes %q", res.Notes)
	}
	n = len(es.Writes())
	if res = setup(t, tr, retention30); len(res.Sent) != 0 || len(es.Writes()) != n {
		t.Fatalf("third run sent %v", res.Sent)
	}
}

// pipelog's mappings change (a new event type): only the component
// template is sent again, with a lazy rollover so the next backing index
// has them. Retention changes: only the lifecycle.
func TestSetupMappingsAndRetentionChange(t *testing.T) {
	es, tr := newFake(t, "9.1.0")
	setup(t, tr, retention30)
	n := len(es.Writes())
	next := retention30
	next.Mappings = json.RawMessage(`{"properties":{"Pipelog":{"properties":{"New":{"properties":{"x":{"type":"long"}}}}}}}`)
	setup(t, tr, next)
	wantWrites(t, es, append(writes(es)[:n],
		"PUT /_component_template/pipelog-logs-orders_etl-mappings",
		"POST /"+stream+"/_rollover?lazy=true")...)

	n = len(es.Writes())
	next.Lifecycle.Retention = 7 * day
	res := setup(t, tr, next)
	wantWrites(t, es, append(writes(es)[:n],
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /_data_stream/"+stream+"/_lifecycle",
		"POST /"+stream+"/_rollover?lazy=true")...)
	if !strings.Contains(res.Sent[1].Reason, "30d → 7d") {
		t.Errorf("reason %q", res.Sent[1].Reason)
	}
	if info, _ := es.DataStream(stream); fmt.Sprint(info.Lifecycle) != "map[data_retention:7d]" {
		t.Fatalf("%+v", info)
	}

	// No retention any more: nothing is deleted from now on.
	n = len(es.Writes())
	next.Lifecycle.Retention = 0
	setup(t, tr, next)
	wantWrites(t, es, append(writes(es)[:n],
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /_data_stream/"+stream+"/_lifecycle",
		"POST /"+stream+"/_rollover?lazy=true")...)
	if info, _ := es.DataStream(stream); len(info.Lifecycle) != 0 {
		t.Fatalf("%+v", info)
	}
	if res := setup(t, tr, next); len(res.Sent) != 0 {
		t.Fatalf("sent %v", res.Sent)
	}
}

// Events were written before setup: the data stream exists, made from the
// built-in logs template and managed by logs@lifecycle, which never
// deletes. Setup brings it under the new template and retention.
func TestSetupExistingDataStream(t *testing.T) {
	es, tr := newFake(t, "8.17.0")
	if err := es.CreateDataStream(stream); err != nil {
		t.Fatal(err)
	}
	if info, _ := es.DataStream(stream); info.Template != "logs" || info.Policies[0] != "logs@lifecycle" {
		t.Fatalf("%+v", info)
	}
	setup(t, tr, retention30)
	wantWrites(t, es,
		"PUT /_component_template/pipelog-logs-orders_etl-mappings",
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /_data_stream/"+stream+"/_lifecycle",
		"PUT /"+stream+"/_settings",
		"POST /"+stream+"/_rollover?lazy=true")
	info, _ := es.DataStream(stream)
	if info.ManagedBy[0] != "Data stream lifecycle" {
		t.Fatalf("%+v", info)
	}
}

// ILM on 8.12, which has no lazy rollover: the rollover is immediate.
func TestSetupILMOnOldCluster(t *testing.T) {
	es, tr := newFake(t, "8.12.2")
	if err := es.CreateDataStream(stream); err != nil {
		t.Fatal(err)
	}
	cfg := retention30
	cfg.Lifecycle.WarmAfter = 3 * day
	setup(t, tr, cfg)
	wantWrites(t, es,
		"PUT /_ilm/policy/pipelog-logs-orders_etl",
		"PUT /_component_template/pipelog-logs-orders_etl-mappings",
		"PUT /_index_template/pipelog-logs-orders_etl",
		"PUT /"+stream+"/_settings",
		"POST /"+stream+"/_rollover")
	golden(t, "existing-stream-ilm-8.12.golden", renderCalls(es.Writes()))
	info, _ := es.DataStream(stream)
	if info.Indices != 2 || info.Template != "pipelog-logs-orders_etl" || !slices.Equal(info.Policies, []string{"pipelog-logs-orders_etl", "pipelog-logs-orders_etl"}) {
		t.Fatalf("%+v", info)
	}
	if res := setup(t, tr, cfg); len(res.Sent) != 0 {
		t.Fatalf("second run sent %v", res.Sent)
	}
}

// Objects of our names that pipelog did not make are left alone.
func TestSetupForeignObjects(t *testing.T) {
	es, tr := newFake(t, "9.1.0")
	if err := putRaw(tr, "/_component_template/pipelog-logs-orders_etl-mappings", `{"template":{"mappings":{"properties":{"x":{"type":"keyword"}}}}}`); err != nil {
		t.Fatal(err)
	}
	n := len(es.Writes())
	_, err := essetup.Setup(context.Background(), tr, retention30)
	if err == nil || !strings.Contains(err.Error(), "not created by pipelog") || len(es.Writes()) != n {
		t.Fatalf("%v", err)
	}
	forced := retention30
	forced.Force = true
	res := setup(t, tr, forced)
	if res.Sent[0].Reason != "not pipelog's" {
		t.Errorf("reason %q", res.Sent[0].Reason)
	}
}

func TestSetupOldVersionAndBadCredentials(t *testing.T) {
	_, tr := newFake(t, "8.10.4")
	if _, err := essetup.Setup(context.Background(), tr, retention30); err == nil || !strings.Contains(err.Error(), "8.12") {
		t.Fatalf("%v", err)
	}
	es, tr := newFake(t, "9.1.0")
	es.FailWith(func(string, string) int { return http.StatusUnauthorized })
	if _, err := essetup.Setup(context.Background(), tr, retention30); err == nil || !strings.Contains(err.Error(), "check the credentials") {
		t.Fatalf("%v", err)
	}
}

func TestSetupServerless(t *testing.T) {
	es, tr := newFake(t, "8.11.0")
	es.SetVersion("8.11.0", "serverless")
	res := setup(t, tr, retention30)
	if res.Mode != essetup.ModeDSL || !res.Version.Serverless {
		t.Fatalf("%+v", res)
	}
	ilm := retention30
	ilm.Lifecycle.ILM = true
	if _, err := essetup.Setup(context.Background(), tr, ilm); err == nil || !strings.Contains(err.Error(), "no ILM") {
		t.Fatalf("%v", err)
	}
}

// renderCalls is the golden form of the writes a fake received.
func renderCalls(calls []esfake.Call) []byte {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "%s %s\n", c.Method, strings.TrimPrefix(c.Path, "/"))
		if len(c.Body) > 0 {
			fmt.Fprintf(&b, "%s\n", c.Body)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func putRaw(tr essetup.Transport, path, body string) error {
	req, _ := http.NewRequest(http.MethodPut, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := tr.Perform(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s", resp.Status)
	}
	return nil
}

// ECS 9 mappings carry synthetic_source_keep, which releases before 8.16
// refuse: it is left out there, kept from 8.16 on.
func TestSetupDropsNewMappingParameters(t *testing.T) {
	cfg := retention30
	cfg.Mappings = json.RawMessage(`{"properties":{"event":{"properties":{"category":{"ignore_above":1024,"synthetic_source_keep":"none","type":"keyword"}}}}}`)
	for version, kept := range map[string]bool{"8.13.4": false, "8.15.3": false, "8.16.0": true, "9.1.0": true} {
		es, tr := newFake(t, version)
		setup(t, tr, cfg)
		if got := strings.Contains(string(es.ComponentTemplate("pipelog-logs-orders_etl-mappings")), "synthetic_source_keep"); got != kept {
			t.Errorf("%s: synthetic_source_keep kept %v", version, got)
		}
	}
}
