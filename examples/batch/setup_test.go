package main

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pipelog/pipelog/ecs/esmapping"
	"github.com/pipelog/pipelog/internal/esfake"
)

var update = flag.Bool("update", false, "rewrite testdata/setup-print.golden")

// `batch -setup --print` shows every body setup sends for the job's types.
func TestSetupPrint(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-setup", "--print", "--retention", "30d"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := out.Bytes()
	for _, want := range []string{`"RowRejected": {`, `"order_id": {`, `"amount_eur": {`, `"type": "double"`, `"data_retention": "30d"`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("output lacks %s", want)
		}
	}
	if *update {
		if err := os.WriteFile("testdata/setup-print.golden", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/setup-print.golden")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("differs from testdata/setup-print.golden (go test -update rewrites it): %v\n%s", err, got)
	}
}

func TestSetupAgainstACluster(t *testing.T) {
	es := esfake.NewCluster("9.1.0")
	defer es.Close()
	t.Setenv("ELASTICSEARCH_URL", es.URL)
	var out, errb bytes.Buffer
	if code := run([]string{"-setup", "--retention", "30d"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	if info, ok := es.DataStream("logs-orders_etl-default"); !ok || info.Template != "pipelog-logs-orders_etl" {
		t.Fatalf("data stream %+v", info)
	}
	out.Reset()
	if code := run([]string{"-setup", "--retention", "30d"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "nothing to change") {
		t.Fatalf("second run: %s", out.String())
	}
	out.Reset()
	if code := run([]string{"-setup", "mappings"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Pipelog.BatchWritten.amount_eur") {
		t.Fatalf("mappings: %s", out.String())
	}
}

// Every value of every line the job writes fits the mapping setup
// installs, and no field is left to ecs@mappings (emulated from its
// published rules); event.dataset and data_stream.* name the stream the
// sink writes to.
func TestLinesFitTheInstalledMapping(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-out", t.TempDir()}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	logs := stdout.Bytes() // only log lines: the summary goes to stderr
	m := esmapping.Build(esmapping.Options{Types: append(append([]reflect.Type(nil), setupProgram.Types...), esmapping.LibraryEvents()...)})
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	mis, err := m.CheckLines(logs, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range mis {
		t.Errorf("%s", x)
	}
	for _, l := range parse(t, logs) {
		for _, p := range []string{"event.dataset", "data_stream.dataset"} {
			if l.get(p) != dataset {
				t.Errorf("%s = %v, want %s", p, l.get(p), dataset)
			}
		}
		if l.get("data_stream.type") != "logs" || l.get("data_stream.namespace") != "default" {
			t.Errorf("data_stream %v", l.get("data_stream"))
		}
	}
	if len(parse(t, logs)) < 5 {
		t.Fatal("too few lines to say anything")
	}
}
