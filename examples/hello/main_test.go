package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestStdoutOnlyProgramLinksNoHeavyDependency: a program that imports only
// the root package (stdout is the default sink) must not compile the
// Elasticsearch client, zap, klauspost/compress or franz-go. They live in
// sink/elasticsearch, pipelogzap, the Elasticsearch sink's gzip and
// sink/kafka.
func TestStdoutOnlyProgramLinksNoHeavyDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !contains(deps, "github.com/pipelog/pipelog") {
		t.Fatalf("go list printed %d packages, without the root package: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/elastic/", "go.uber.org/zap", "github.com/klauspost/", "github.com/twmb/"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("a stdout-only program depends on %s", d)
			}
		}
	}
	t.Logf("%d packages", len(deps))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestHelloWritesOneECSLine runs the program and reads its line.
func TestHelloWritesOneECSLine(t *testing.T) {
	out, err := exec.Command("go", "run", ".").Output()
	if err != nil {
		t.Fatalf("go run: %v", err)
	}
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != 1 {
		t.Fatalf("%d lines: %s", len(lines), out)
	}
	var m map[string]any
	if err := json.Unmarshal(lines[0], &m); err != nil {
		t.Fatal(err)
	}
	if m["message"] != "hello, world" || m["user"].(map[string]any)["name"] != "world" {
		t.Errorf("line: %s", lines[0])
	}
}
