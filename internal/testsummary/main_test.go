package main

import (
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: no VictoriaLogs: set PIPELOG_VICTORIALOGS_URL\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: boom\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestC","Output":"chatter\n"}
{"Action":"pass","Package":"p","Test":"TestC"}
{"Action":"fail","Package":"p","Elapsed":1.5}
{"Action":"pass","Package":"q","Elapsed":0.2}
`
	var out strings.Builder
	if code := run(strings.NewReader(in), &out); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	got := out.String()
	for _, want := range []string{"--- SKIP: p TestA\n    a_test.go:9: no VictoriaLogs", "--- FAIL: p TestB\n    b_test.go:3: boom", "FAIL\tp\t1.5s", "ok\tq\t0.2s"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "chatter") || strings.Contains(got, "=== RUN") {
		t.Errorf("passing tests' output shown:\n%s", got)
	}

	out.Reset()
	if code := run(strings.NewReader(`{"Action":"pass","Package":"q"}`+"\n"), &out); code != 0 {
		t.Errorf("all passed: exit %d", code)
	}
	if code := run(strings.NewReader(""), &out); code != 1 {
		t.Errorf("no results: exit %d, want 1", code)
	}
}
