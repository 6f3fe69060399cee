package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	register("test-echo", "prints its arguments", func(args []string, stdout, stderr io.Writer) int {
		_, _ = io.WriteString(stdout, strings.Join(args, ","))
		return 3
	})
	defer delete(commands, "test-echo")
	var out, errb bytes.Buffer
	if code := run([]string{"test-echo", "a", "b"}, &out, &errb); code != 3 || out.String() != "a,b" {
		t.Fatalf("code %d, out %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "test-echo") {
		t.Fatalf("help: code %d, %q", code, out.String())
	}
	if code := run([]string{"nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown subcommand "nope"`) {
		t.Fatalf("unknown: code %d, %q", code, errb.String())
	}
	if code := run(nil, &out, &errb); code != 2 {
		t.Fatalf("no arguments: code %d", code)
	}
}
