package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/esfake"
)

// runBatch runs the job with args: stdout is only NDJSON log lines (so
// that `| jq` works); the summary is the last line of stderr.
func runBatch(t *testing.T, args ...string) (code int, logs []byte, summary string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code = run(args, &stdout, &stderr)
	conformance.RequireConformant(t, stdout.Bytes())
	s := strings.TrimSuffix(stderr.String(), "\n")
	return code, stdout.Bytes(), s[strings.LastIndexByte(s, '\n')+1:]
}

type line map[string]any

func parse(t *testing.T, ndjson []byte) []line {
	t.Helper()
	var out []line
	for l := range bytes.Lines(ndjson) {
		var m line
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, m)
	}
	return out
}

func (l line) get(path string) any {
	if v, ok := l[path]; ok { // log.level, ecs.version
		return v
	}
	var cur any = map[string]any(l)
	for _, p := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[p]
	}
	return cur
}

func TestBatchRun(t *testing.T) {
	out := t.TempDir()
	code, logs, summary := runBatch(t, "-out", out)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, summary)
	}

	outPath := filepath.Join(out, "orders_eur.csv")
	logPath := filepath.Join(out, "pipelog-batch.ndjson")
	if !strings.HasPrefix(summary, "orders-etl ok: read 50 rows, wrote 43, rejected 7 in 5 batches; output "+outPath+"; log "+logPath+"; run ") ||
		!strings.HasSuffix(summary, "; exit 0") {
		t.Errorf("summary: %s", summary)
	}

	// The output file: a header and 43 converted rows.
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 44 || strings.Join(recs[0], ",") != "order_id,customer,country,amount_eur,ordered_date" {
		t.Fatalf("output: %d records, header %v", len(recs), recs[0])
	}
	// ORD-1001: 431.59 USD * 0.92 = 397.06 EUR.
	if strings.Join(recs[1], ",") != "ORD-1001,initech,GB,397.06,2026-11-02" {
		t.Errorf("first row: %v", recs[1])
	}

	// The log file has the same lines as stdout, all conformant.
	fileLogs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	conformance.RequireConformant(t, fileLogs)
	if !bytes.Equal(fileLogs, logs) {
		t.Errorf("log file differs from stdout (%d vs %d bytes)", len(fileLogs), len(logs))
	}

	// One trace.id for the run; the events we expect.
	lines := parse(t, logs)
	counts := map[string]int{}
	trace := lines[0].get("trace.id")
	for _, l := range lines {
		counts[l.get("event.action").(string)]++
		if trace == nil || l.get("trace.id") != trace {
			t.Errorf("trace.id %v != %v", l.get("trace.id"), trace)
		}
	}
	want := map[string]int{"JobStarted": 1, "InputOpened": 1, "RowRejected": 7, "BatchWritten": 5, "OutputWritten": 1, "JobSucceeded": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%d %s events, want %d (all: %v)", counts[k], k, v, counts)
		}
	}
	if id, _ := lines[0].get("trace.id").(string); !strings.Contains(summary, "run "+id+";") {
		t.Errorf("summary lacks run ID %s: %s", id, summary)
	}
	// A rejected row names its line, field and reason.
	for _, l := range lines {
		if l.get("event.action") == "RowRejected" && l.get("Pipelog.RowRejected.line") == float64(8) {
			if l.get("event.reason") != "amount: not positive" || l.get("Pipelog.RowRejected.field") != "amount" || l.get("log.level") != "warn" {
				t.Errorf("rejected row: %v", l)
			}
		}
	}
}

func TestBatchMissingInput(t *testing.T) {
	code, logs, summary := runBatch(t, "-out", t.TempDir(), "-in", filepath.Join(t.TempDir(), "nope.csv"))
	if code != 1 {
		t.Fatalf("exit code %d", code)
	}
	lines := parse(t, logs)
	last := lines[len(lines)-1]
	if last.get("event.action") != "JobFailed" || !strings.Contains(last.get("error.message").(string), "open input") {
		t.Errorf("last event: %v", last)
	}
	if !strings.HasPrefix(summary, "orders-etl FAILED: read 0 rows") || !strings.HasSuffix(summary, "exit 1") {
		t.Errorf("summary: %s", summary)
	}
}

func TestBatchTooManyRejected(t *testing.T) {
	out := t.TempDir()
	if code, _, _ := runBatch(t, "-out", out, "-max-reject", "0.1"); code != 1 {
		t.Fatalf("exit code %d", code)
	}
	if _, err := os.Stat(filepath.Join(out, "orders_eur.csv")); !os.IsNotExist(err) {
		t.Errorf("a failed run left an output file: %v", err)
	}
}

// With -es-url, the same events reach Elasticsearch (an in-process fake of
// the _bulk API here).
func TestBatchElasticsearch(t *testing.T) {
	es := esfake.New()
	defer es.Close()
	code, logs, _ := runBatch(t, "-out", t.TempDir(), "-es-url", es.URL)
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	lines := parse(t, logs)
	st := es.Stats()
	if st.Docs != len(lines) || st.Malformed != 0 || st.DoubleCreates != 0 {
		t.Errorf("Elasticsearch got %+v, want %d docs", st, len(lines))
	}
	for _, l := range lines {
		doc, ok := es.Doc(l.get("event.id").(string))
		if !ok {
			t.Errorf("event %v not indexed", l.get("event.id"))
			continue
		}
		conformance.RequireConformant(t, append(bytes.TrimSpace(doc), '\n'))
	}
}

// -out names a directory that need not exist yet (issue 11 item 18).
func TestBatchCreatesOutDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "a", "b")
	code, logs, summary := runBatch(t, "-out", out)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, summary)
	}
	if _, err := os.Stat(filepath.Join(out, "orders_eur.csv")); err != nil {
		t.Error(err)
	}
	if len(parse(t, logs)) == 0 {
		t.Error("no log lines")
	}
}

// With only the environment a platform sets (ELASTICSEARCH_URL to an HTTPS
// node, ELASTIC_API_KEY, ELASTICSEARCH_CA_CERT for its private CA), the
// same events reach a secured cluster, with no flag and no code change
// (issue 12 §3).
func TestBatchSecuredElasticsearchFromEnv(t *testing.T) {
	es := esfake.NewTLS()
	defer es.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: es.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "aWQ6c2VjcmV0LWtleQ==" // base64("id:secret-key"), the encoded form
	t.Setenv("PIPELOG_ES_URL", "")
	t.Setenv("ELASTICSEARCH_URL", es.URL)
	t.Setenv("ELASTIC_API_KEY", key)
	t.Setenv("ELASTICSEARCH_CA_CERT", ca)
	code, logs, summary := runBatch(t, "-out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, summary)
	}
	lines := parse(t, logs)
	if st := es.Stats(); st.Docs != len(lines) {
		t.Errorf("Elasticsearch got %+v, want %d docs", st, len(lines))
	}
	if _, h := es.LastRequest(); !strings.EqualFold(h.Get("Authorization"), "ApiKey "+key) {
		t.Errorf("Authorization %q, want the API key from ELASTIC_API_KEY", h.Get("Authorization"))
	}
	if strings.Contains(summary, key) || strings.Contains(string(logs), key) {
		t.Error("the API key was printed")
	}

	// Without the CA the node's certificate is refused: TLS stays verified.
	t.Setenv("ELASTICSEARCH_CA_CERT", "")
	code, _, summary = runBatch(t, "-out", t.TempDir())
	if code == 0 {
		t.Errorf("exit 0 against an unverifiable certificate: %s", summary)
	}

	// A bad value is an error naming its variable.
	t.Setenv("ELASTICSEARCH_CA_CERT", filepath.Join(t.TempDir(), "missing.pem"))
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-out", t.TempDir()}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "ELASTICSEARCH_CA_CERT") {
		t.Errorf("exit %d, %q: want a failure naming ELASTICSEARCH_CA_CERT", code, stderr.String())
	}
}
