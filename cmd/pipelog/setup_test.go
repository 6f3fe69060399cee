package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSetupAndMappingsCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"setup", "--print", "--dataset", "orders-etl"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "PUT _index_template/pipelog-logs-orders_etl") {
		t.Fatalf("setup --print: exit %d %s", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"mappings"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Pipelog.JobStarted.job") {
		t.Fatalf("mappings: exit %d %s", code, errb.String())
	}
	out.Reset()
	run([]string{"help"}, &out, &errb)
	if !strings.Contains(out.String(), "setup") || !strings.Contains(out.String(), "mappings") {
		t.Fatalf("help: %s", out.String())
	}
}
