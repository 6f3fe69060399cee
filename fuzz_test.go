package pipelog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/fuzzval"
	"github.com/pipelog/pipelog/internal/testlog"
)

type FuzzedValues struct {
	event.Base
	Any   any
	Map   map[string]any
	List  []any
	Bytes fuzzval.RawJSON
	Text  fuzzval.Text
}

// FuzzEmitValues: hostile values of every shape (fuzzval: nested maps with
// hostile keys, MarshalJSON and MarshalText output, panicking methods,
// error chains with typed nils, cycles and Join trees, cyclic and deep
// structs) always give exactly one line per event, valid JSON that passes
// the conformance checker, within the line bound, and never a panic.
func FuzzEmitValues(f *testing.F) {
	f.Add([]byte{4, 3, 0, 1, 8, 1, 13, 0}, "a.b", `{"a":1,"a.b":2}`)
	f.Add([]byte{6, 0, 6, 1, 8, 3, 3, 1, 4, 2, 1}, "\xff\xfe", `{"":{"..":[1,2,{"x.":null}]}}`)
	f.Add([]byte{5, 5, 5, 5, 12, 12, 12, 16, 7, 10, 2}, "<script>", "\"\\ud800\"")
	f.Add([]byte{19, 17, 15, 11, 14, 14, 14, 9, 18}, "message", "1e999")
	f.Fuzz(func(t *testing.T, data []byte, s1, s2 string) {
		b := fuzzval.New(data, s1, s2)
		m, _ := b.Value(4).(map[string]any)
		l, _ := b.Value(3).([]any)
		level := event.Level(int8(len(data)%24) - 8) // named levels and others
		ev := FuzzedValues{Base: event.Base{Level: level, Message: s1,
			Err: b.Error(4)}, Any: b.Value(6), Map: m, List: l, Bytes: fuzzval.RawJSON(s2), Text: fuzzval.Text{S: s1}}
		log, mem, _ := testlog.Logger(t, pipelog.Config{Level: -128, MaxStringBytes: 512, MaxLineBytes: 8192})
		pipelog.Emit(context.Background(), log, ev)
		pipelog.Emit(context.Background(), log, &ev)
		lines := mem.Lines()
		if len(lines) != 2 {
			t.Fatalf("%d lines for 2 events", len(lines))
		}
		for _, line := range lines {
			if bytes.Count(line, []byte("\n")) != 1 || !json.Valid(line) {
				t.Fatalf("not one valid JSON line: %q", line)
			}
			if len(line) > 8192 {
				t.Fatalf("line of %d bytes over the bound of 8192", len(line))
			}
			if err := conformance.Check(line); err != nil {
				t.Fatalf("%v\n%s", err, line)
			}
		}
	})
}
