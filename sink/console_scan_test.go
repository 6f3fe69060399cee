package sink

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/event"
)

// consoleCases are lines the console must render exactly as the previous,
// encoding/json-based implementation did.
var consoleCases = []string{
	consoleLine,
	`{"@timestamp":"2026-11-26T10:00:00.000001Z","log.level":"info+2","message":"hi","Pipelog":{"Attrs":{"a":1,"g":{"b":"x"}}}}`,
	// Escapes, in keys and values; surrogate pairs, lone and broken ones.
	`{"message":"caf\u00e9 \ud83d\ude00 \ud800 \udc00x \ud83dx \u2028 \"q\" \\ \/","Pipelog":{"K\u00e9y":"v\u0041","sp ace":"a b","eq":"a=b","bs":"a\\b","empty":""}}`,
	`{"mess\u0061ge":"decoded key","Pipe\u006cog":{"a":1}}`,
	// Numbers, literals, arrays, nested and empty objects.
	`{"Pipelog":{"n":-0.5e+10,"z":0,"t":true,"f":false,"nil":null,"arr":[1,{"a":[]},"x"],"o":{},"deep":{"a":{"b":{"c":1}}}}}`,
	// Values of other types where the console expects strings.
	`{"@timestamp":12,"log.level":5,"message":{"a":1},"event":{"action":null},"trace":{"id":7},"error":{"message":null,"stack_trace":3}}`,
	`{"@timestamp":null,"log.level":null,"message":null,"event":"x","trace":[1],"error":"e","Pipelog":"flat"}`,
	`{"@timestamp":"yesterday","log.level":"WARN","message":["a","b"]}`,
	`{"log.level":"Ünïcode","message":"m"}`,
	// Duplicate keys: the last one counts.
	`{"message":"first","message":"second","event":{"action":"A"},"event":{"kind":"k"},"Pipelog":{"a":1},"Pipelog":{"b":2}}`,
	`{"event":{"action":"A","action":"B"},"Pipelog":{"B":{"x":1},"A":{"y":2}}}`,
	// The event's own object and Attrs are stripped; only the first prefix.
	`{"event":{"action":"orderRejected"},"Pipelog":{"OrderRejected":{"Attrs":{"x":1}},"Attrs":{"OrderRejected":{"y":2}},"OrderRejectedX":{"z":3},"Attrs.k":4}}`,
	// Stack traces: lines, tabs, control characters.
	`{"error":{"message":"boom","stack_trace":"a\n\tb\r\nc\u0007d\u0085e\n\n"}}`,
	// Control characters in text.
	`{"message":"x\u001b[31my","event":{"action":"a\nb"},"trace":{"id":"t\u0000"},"Pipelog":{"k\u0001":"\u009b"}}`,
	// Invalid UTF-8 in a string becomes U+FFFD.
	"{\"message\":\"bad \xff\xfe byte\",\"Pipelog\":{\"k\xc3\":\"\xed\xa0\x80\"}}",
	// Whitespace around tokens.
	" \t{ \"message\" : \"spaced\" , \"Pipelog\" : { \"a\" : 1 , \"b\" : \"c\" } } \r\n",
	// Not JSON objects, or not JSON at all.
	`not json`,
	`[1,2]`,
	`"string"`,
	`12`,
	``,
	`{`,
	`{"a":1}x`,
	`{"a":1,}`,
	`{"a" 1}`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":-}`,
	`{"a":1e}`,
	`{"a":tru}`,
	`{"a":nul}`,
	`{"a":"\x"}`,
	`{"a":"\u12"}`,
	`{"a":[1,]}`,
	`{"a":[1 2]}`,
	`{"a":{"b":1]}`,
	`{"a":"unterminated}`,
	`{1:2}`,
	strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000),
	strings.Repeat(`{"a":`, 9999) + `[1]` + strings.Repeat(`}`, 9999),
	strings.Repeat(`{"a":`, 9999) + `[[1]]` + strings.Repeat(`}`, 9999),
}

func newTestConsole(color bool, format string) *Console {
	mode := ColorNever
	if color {
		mode = ColorAlways
	}
	return NewConsole(&bytes.Buffer{}, ConsoleConfig{Color: mode, TimeFormat: format})
}

func TestConsoleMatchesPrevious(t *testing.T) {
	for _, color := range []bool{false, true} {
		c := newTestConsole(color, "15:04:05.000000")
		for _, line := range consoleCases {
			for _, nl := range []string{"", "\n"} {
				want := previousConsoleFormat(nil, []byte(line+nl), color, c.format)
				got := c.appendLine(nil, []byte(line+nl), nil)
				require.Equal(t, string(want), string(got), "color %v, line %.200q", color, line+nl)
			}
		}
	}
}

// TestConsoleDeviationsFromPrevious lists where the previous implementation
// let control characters reach the terminal, or contradicted its own doc
// comment, and what the console writes now.
func TestConsoleDeviationsFromPrevious(t *testing.T) {
	for _, tc := range []struct{ line, previous, now string }{
		{"not \x1b[31mjson\n", "not \x1b[31mjson\n", `"not \x1b[31mjson"` + "\n"},
		{"bad \xff\n", "bad \xff\n", `"bad \xff"` + "\n"},
		{`{"a":"` + "\x01" + `"}`, "{\"a\":\"\x01\"}\n", `"{\"a\":\"\x01\"}"` + "\n"},
		{`{"@timestamp":"\u001b[2J","log.level":"info"}`, "\x1b[2J INFO \n", `"\x1b[2J" INFO` + " \n"},
		{`{"Pipelog":{"a":[1,` + "\r\n\t" + `2]}}`, "      a=[1,\r\n\t2]\n", "      a=[1,2]\n"},
		{`null`, "     \n", "null\n"},
	} {
		c := newTestConsole(false, "")
		require.Equal(t, tc.previous, string(previousConsoleFormat(nil, []byte(tc.line), false, c.format)), "previous, %q", tc.line)
		assert.Equal(t, tc.now, string(c.appendLine(nil, []byte(tc.line), nil)), "now, %q", tc.line)
	}
}

func FuzzConsoleMatchesPrevious(f *testing.F) {
	for _, line := range consoleCases {
		if len(line) < 1000 {
			f.Add([]byte(line))
		}
	}
	c := newTestConsole(false, time.RFC3339Nano)
	f.Fuzz(func(t *testing.T, line []byte) {
		got := c.appendLine(nil, line, nil)
		head, stack, _ := bytes.Cut(got, []byte("\n"))
		stack = bytes.ReplaceAll(bytes.ReplaceAll(stack, []byte("\t"), nil), []byte("\n"), nil)
		if hasControl(head) || hasControl(stack) { // tabs are kept in stack traces
			t.Fatalf("control character in %q", got)
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(line, &top) != nil || top == nil {
			// Not an object: written as it is, quoted if need be.
			text := bytes.TrimRight(line, "\n")
			want := string(text) + "\n"
			if hasControl(text) || !utf8.Valid(text) {
				want = strconv.Quote(string(text)) + "\n"
			}
			require.Equal(t, want, string(got), "line %q", line)
			return
		}
		var b bytes.Buffer
		require.NoError(t, json.Compact(&b, line))
		want := previousConsoleFormat(nil, b.Bytes(), false, c.format)
		if prevHead, _, _ := bytes.Cut(want, []byte("\n")); hasControl(prevHead) {
			return // the previous implementation let it through raw: see TestConsoleDeviationsFromPrevious
		}
		require.Equal(t, string(want), string(got), "line %q", line)
	})
}

func TestConsoleLevelsMatchString(t *testing.T) {
	for l := -128; l < 128; l++ {
		lv := event.Level(l)
		for _, color := range []bool{false, true} {
			c := newTestConsole(color, "")
			line := `{"log.level":"` + lv.String() + `"}`
			want := previousConsoleFormat(nil, []byte(line), color, c.format)
			got := append(c.appendLevel(nil, lv), '\n')
			require.Equal(t, string(want), string(got), "level %d", l)
		}
	}
}

func TestConsoleEntryTime(t *testing.T) {
	c := newTestConsole(false, time.RFC3339Nano)
	for _, tc := range []struct {
		t    time.Time
		line string
	}{
		{time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC), `"2026-11-26T10:00:00.123456Z"`},
		{time.Date(2026, 11, 26, 10, 0, 0, 999, time.UTC), `"2026-11-26T10:00:00.000000Z"`},
		// Outside 0000–9999 the encoder clamps, and the line's time is shown.
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), `"9999-12-31T23:59:59.999999Z"`},
		{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), `"0000-01-01T00:00:00.000000Z"`},
	} {
		line := []byte(`{"@timestamp":` + tc.line + `,"log.level":"info","message":"m"}` + "\n")
		want := c.appendLine(nil, line, nil)
		got := c.appendLine(nil, line, &Entry{Line: line, Time: tc.t, Level: event.LevelInfo})
		assert.Equal(t, string(want), string(got), "%v", tc.t)
	}
}

func TestConsoleWriteEntryAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := NewConsole(io.Discard, ConsoleConfig{Color: ColorAlways})
	e := &Entry{Line: []byte(consoleLine), Level: event.LevelWarn, Time: time.Now(), Name: "OrderRejected"}
	if n := testing.AllocsPerRun(100, func() { _ = c.WriteEntry(e) }); n != 0 {
		t.Errorf("WriteEntry: %v allocations per line, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.Write(e.Line) }); n > 1 {
		t.Errorf("Write: %v allocations per line, want at most 1 (time.Parse)", n)
	}
}
