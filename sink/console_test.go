package sink

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const consoleLine = `{"@timestamp":"2026-11-26T10:00:00.123456Z","log.level":"warn","message":"order rejected","ecs.version":"9.4.0",` +
	`"service":{"name":"orders-etl"},"event":{"action":"OrderRejected","kind":"event","id":"abc"},` +
	`"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"error":{"message":"credit limit exceeded","type":"*errors.errorString","stack_trace":"goroutine 1 [running]:\nmain.main()\n"},` +
	`"url":{"path":"/v1/orders"},"Pipelog":{"OrderRejected":{"Tenant":"acme","Items":3,"Note":"two words","Tags":["a","b"],"Nested":{"K":true}},"warning":"slow"}}` + "\n"

func consoleTime(t *testing.T, ts, format string) string {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatal(err)
	}
	return tm.Local().Format(format)
}

func TestConsoleFormatsTypedEvent(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, ConsoleConfig{Color: ColorNever})
	if err := c.Write([]byte(consoleLine)); err != nil {
		t.Fatal(err)
	}
	want := consoleTime(t, "2026-11-26T10:00:00.123456Z", "15:04:05.000") +
		` WARN  OrderRejected order rejected trace.id=4bf92f3577b34da6a3ce929d0e0e4736 error.message="credit limit exceeded"` +
		` Tenant=acme Items=3 Note="two words" Tags=["a","b"] Nested.K=true warning=slow` + "\n" +
		"    goroutine 1 [running]:\n    main.main()\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestConsoleAdapterLineAndTimeFormat(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, ConsoleConfig{Color: ColorNever, TimeFormat: time.RFC3339})
	line := `{"@timestamp":"2026-11-26T10:00:00.000000Z","log.level":"info+2","message":"hi","ecs.version":"9.4.0","Pipelog":{"Attrs":{"a":1,"g":{"b":"x"}}}}` + "\n"
	if err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	want := consoleTime(t, "2026-11-26T10:00:00Z", time.RFC3339) + " INFO+2 hi a=1 g.b=x\n"
	if got := buf.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConsoleColor(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, ConsoleConfig{Color: ColorAlways})
	_ = c.Write([]byte(consoleLine))
	if !strings.Contains(buf.String(), "\x1b[33mWARN\x1b[0m") {
		t.Errorf("no coloured level: %q", buf.String())
	}
	if NewConsole(&buf, ConsoleConfig{}).color {
		t.Error("ColorAuto coloured a bytes.Buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "console")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if NewConsole(f, ConsoleConfig{}).color {
		t.Error("ColorAuto coloured a regular file")
	}
	// /dev/null is a character device, like a terminal: it stands in for one.
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !NewConsole(dev, ConsoleConfig{}).color {
		t.Error("ColorAuto did not colour a character device")
	}
	t.Setenv("NO_COLOR", "1")
	if NewConsole(dev, ConsoleConfig{}).color {
		t.Error("ColorAuto ignored NO_COLOR")
	}
	if NewConsole(dev, ConsoleConfig{Color: ColorNever}).color {
		t.Error("ColorNever coloured")
	}
}

func TestConsoleEscapesControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, ConsoleConfig{Color: ColorNever})
	line := `{"@timestamp":"2026-11-26T10:00:00.000000Z","log.level":"error","message":"two\nlines \u001b[31mred","ecs.version":"9.4.0","Pipelog":{"Attrs":{"k":"a\u0007b"}}}` + "\n"
	_ = c.Write([]byte(line))
	out := buf.String()
	if strings.Count(out, "\n") != 1 || strings.Contains(out, "\x1b") || strings.Contains(out, "\a") {
		t.Errorf("control characters reached the output: %q", out)
	}
	if !strings.Contains(out, `"two\nlines \x1b[31mred"`) || !strings.Contains(out, `k="a\ab"`) {
		t.Errorf("got %q", out)
	}
}

func TestConsoleNonJSONAndClose(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, ConsoleConfig{})
	_ = c.Write([]byte("not json\n"))
	if buf.String() != "not json\n" {
		t.Errorf("got %q", buf.String())
	}
	ctx := context.Background()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Write([]byte(consoleLine)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestConsoleConcurrentWrites(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, ConsoleConfig{Color: ColorNever})
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				_ = c.Write([]byte(consoleLine))
			}
		}()
	}
	for range 4 {
		<-done
	}
	if n := strings.Count(buf.String(), "WARN "); n != 200 {
		t.Errorf("%d lines, want 200", n)
	}
}
