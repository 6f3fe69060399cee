package encode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/encode"
)

type FuzzEvent struct {
	event.Base
	Path  string `ecs:"url.path"`
	Label string `ecs:"labels.fuzz"`
	Text  string
	Num   float64
	Any   any
	List  []string
}

// FuzzAppendEvent: whatever strings, keys and numbers go in, exactly one
// valid JSON object on one line comes out, and it passes the conformance
// checker.
func FuzzAppendEvent(f *testing.F) {
	f.Add("msg", "key", "value", 1.5, int64(0), int8(0))
	f.Add("a\xffb", "x.y*z\\", "\x00\n\"", math.NaN(), int64(-1), int8(8))
	f.Add("", "", "", math.Inf(1), int64(1<<62), int8(-128))
	f.Add("\u2028\u2029", "labels.a", "\xed\xa0\x80", -0.0, int64(253402300800), int8(127))
	f.Fuzz(func(t *testing.T, msg, key, value string, num float64, unix int64, level int8) {
		e := encode.NewEncoder(encode.Config{ServiceName: value, ServiceVersion: msg, LoggerName: key, MaxStringBytes: 64})
		fx, _ := e.Fix(nil, []encode.Field{{Key: key, Value: value}, {Key: value, Value: num}})
		rec := encode.Record{Time: time.Unix(unix, 0), EventID: []byte(key), Correlation: encode.Correlation{TraceID: value, Worker: msg,
			Labels: []encode.Label{{Key: key, Value: value}, {Key: value, Value: key}}}}
		ev := FuzzEvent{Base: event.Base{Level: event.Level(level), Message: msg, Reason: key, Warning: value,
			Err: errors.New(value)}, Path: msg, Label: value, Text: key, Num: num, Any: value, List: []string{msg, key}}
		line, _ := appendEvent(e, fx, nil, &rec, ev)
		if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
			t.Fatalf("not one line: %q", line)
		}
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %q", line)
		}
		if err := conformance.Check(line); err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
		dyn := e.AppendDynamic(nil, fx, &rec, []encode.DynamicField{{Path: "url.domain", Value: []byte(`"x"`), Shape: encode.ShapeString}}, nil)
		if err := conformance.Check(dyn); err != nil {
			t.Fatalf("%v\n%s", err, dyn)
		}
	})
}
