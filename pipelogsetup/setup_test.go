package pipelogsetup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/pipelogsetup"
)

type OrderConsumed struct {
	event.Base
	MessageID string `json:"message_id"`
	Queue     string `json:"queue"`
}

var program = pipelogsetup.Program{Dataset: "orders-etl", Types: []reflect.Type{reflect.TypeFor[OrderConsumed]()}}

func runSetup(t *testing.T, p pipelogsetup.Program, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := p.Setup(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestPrint(t *testing.T) {
	code, out, errs := runSetup(t, program, "--print", "--retention", "30d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"# pipelog setup of data stream logs-orders_etl-default for Elasticsearch 9.1.0",
		"PUT _component_template/pipelog-logs-orders_etl-mappings\n{",
		`"message_id": {`, `"JobStarted": {`, `"data_retention": "30d"`,
		"PUT _index_template/pipelog-logs-orders_etl\n{", "\nPUT _data_stream/logs-orders_etl-default\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Every body is JSON.
	for _, block := range strings.Split(out, "\n\n")[1:] {
		_, body, ok := strings.Cut(block, "\n")
		if ok && body != "" && !json.Valid([]byte(body)) {
			t.Errorf("not JSON: %.200s", body)
		}
	}
	if code, out, _ := runSetup(t, program, "--print", "--es-version", "8.13.0", "--retention", "30d"); code != 0 || !strings.Contains(out, "PUT _ilm/policy/pipelog-logs-orders_etl") {
		t.Errorf("8.13: exit %d\n%s", code, out)
	}
}

func TestSetupAgainstACluster(t *testing.T) {
	es := esfake.NewCluster("9.1.0")
	defer es.Close()
	code, out, errs := runSetup(t, program, "--url", es.URL, "--retention", "14d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "Elasticsearch 9.1.0: data stream logs-orders_etl-default, lifecycle: data stream lifecycle") ||
		!strings.Contains(out, "sent PUT _data_stream/logs-orders_etl-default (new)") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(string(es.ComponentTemplate("pipelog-logs-orders_etl-mappings")), `"message_id"`) {
		t.Error("the program's type is not in the component template")
	}
	code, out, _ = runSetup(t, program, "--url", es.URL, "--retention", "14d")
	if code != 0 || !strings.Contains(out, "nothing to change") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	code, out, _ = runSetup(t, program, "--url", es.URL)
	if code != 0 || !strings.Contains(out, "retention is unlimited") {
		t.Errorf("no retention: exit %d\n%s", code, out)
	}
}

func TestSetupFromTheEnvironment(t *testing.T) {
	es := esfake.NewCluster("9.1.0")
	defer es.Close()
	t.Setenv("ELASTICSEARCH_URL", es.URL)
	t.Setenv("ELASTIC_API_KEY", "c2VjcmV0OmtleQ==")
	if code, _, errs := runSetup(t, program); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// A missing CA file named by the environment is an error naming it.
	t.Setenv("ELASTICSEARCH_CA_CERT", filepath.Join(t.TempDir(), "missing.pem"))
	if code, _, errs := runSetup(t, program); code == 0 || !strings.Contains(errs, "ELASTICSEARCH_CA_CERT") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// Flags win over the environment, and a variable a flag replaces is not
// read: bad ELASTICSEARCH_URL, ELASTIC_CLOUD_ID and ELASTICSEARCH_CA_CERT
// values do not stop a setup whose -url and -ca-cert say otherwise.
func TestSetupFlagsWinOverTheEnvironment(t *testing.T) {
	es := esfake.NewCluster("9.1.0")
	defer es.Close()
	tls := httptest.NewTLSServer(nil) // any valid certificate: the cluster is plain HTTP
	tls.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tls.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ELASTICSEARCH_URL", "ftp://nowhere")
	t.Setenv("ELASTIC_CLOUD_ID", "x:eA==")
	t.Setenv("ELASTICSEARCH_CA_CERT", filepath.Join(t.TempDir(), "missing.pem"))
	if code, _, errs := runSetup(t, program, "-url", es.URL+", ", "-ca-cert", ca); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if len(es.Writes()) == 0 {
		t.Error("nothing was sent to the -url cluster")
	}
}

// Errors never print credentials.
func TestSetupRedactsCredentials(t *testing.T) {
	t.Setenv("ELASTICSEARCH_URL", "")
	code, out, errs := runSetup(t, program, "--url", "http://elastic:hunter2secret@127.0.0.1:1", "--api-key", "topsecretkey", "--timeout", "2s")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(out+errs, "hunter2secret") || strings.Contains(out+errs, "topsecretkey") {
		t.Fatalf("a credential was printed: %s%s", out, errs)
	}
}

func TestSetupUsage(t *testing.T) {
	for _, args := range [][]string{{"--retention", "soon"}, {"--nope"}, {"extra"}, {"--attrs", "bogus", "--print"}, {"--ca-cert", "/nonexistent", "--url", "http://x"}} {
		if code, _, errs := runSetup(t, program, args...); code == 0 || errs == "" {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
	type Bad struct {
		event.Base
		C chan int
	}
	bad := pipelogsetup.Program{Types: []reflect.Type{reflect.TypeFor[Bad]()}}
	if code, _, errs := runSetup(t, bad, "--print"); code != 1 || !strings.Contains(errs, "cannot be mapped") {
		t.Errorf("a type that cannot be mapped: exit %d %s", code, errs)
	}
}

func TestMappings(t *testing.T) {
	var out, errb bytes.Buffer
	if code := program.Mappings(nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"OrderConsumed", "Pipelog.OrderConsumed.message_id", "keyword",
		"ecs_wildcard rule would map it as wildcard", "fields mapped of index.mapping.total_fields.limit 1000",
		"pipelog_strings"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if code := program.Mappings([]string{"--json"}, &out, &errb); code != 0 || !json.Valid(out.Bytes()) {
		t.Errorf("--json: exit %d %.200s", code, out.String())
	}
	if code := program.Mappings([]string{"--total-fields-limit", "10"}, &out, &errb); code != 1 {
		t.Errorf("over the limit: exit %d", code)
	}
	if code := program.Mappings([]string{"x"}, &out, &errb); code != 2 {
		t.Errorf("bad usage: exit %d", code)
	}
}

func TestMain(m *testing.M) {
	// The connection must come from the test, never from the machine.
	for _, v := range []string{"ELASTICSEARCH_URL", "ELASTIC_CLOUD_ID", "ELASTIC_API_KEY", "ELASTICSEARCH_USERNAME",
		"ELASTICSEARCH_PASSWORD", "ELASTICSEARCH_SERVICE_TOKEN", "ELASTICSEARCH_CA_CERT"} {
		os.Unsetenv(v)
	}
	os.Exit(m.Run())
}

func TestMappingsLines(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ndjson")
	os.WriteFile(good, []byte(`{"@timestamp":"2026-01-01T00:00:00Z","log.level":"info","message":"m","ecs.version":"9.4.0","url":{"path":"/x"},"Pipelog":{"OrderConsumed":{"message_id":"a"},"Attrs":{"k":1}}}`+"\n"), 0o600)
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte(`{"@timestamp":"2026-01-01T00:00:00Z","message":"m","http":{"response":{"status_code":"x"}},"Pipelog":{"OrderConsumed":{"message_id":7}}}`+"\n"), 0o600)
	var out, errb bytes.Buffer
	if code := program.Mappings([]string{"--lines", good}, &out, &errb); code != 0 || !strings.Contains(out.String(), "every value fits") {
		t.Errorf("good lines: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	code := program.Mappings([]string{"--lines", bad}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "Pipelog.OrderConsumed.message_id = 7: a keyword field takes strings") ||
		!strings.Contains(out.String(), "http.response.status_code") {
		t.Errorf("bad lines: exit %d\n%s", code, out.String())
	}
}

// The full mapping of the library's own events is accepted by the fake on
// every supported line (bodies validated: mapping types, parameters by
// release, composed templates that exist, ILM phases and actions).
func TestSetupOnEveryRelease(t *testing.T) {
	for _, v := range []string{"8.12.2", "8.13.4", "8.14.3", "8.15.5", "8.17.0", "8.19.7", "9.0.0", "9.1.0"} {
		es := esfake.NewCluster(v)
		code, out, errs := runSetup(t, program, "--url", es.URL, "--retention", "30d")
		es.Close()
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", v, code, out, errs)
		}
	}
}
