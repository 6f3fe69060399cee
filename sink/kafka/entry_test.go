package kafka

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// entries keeps a copy of every entry a Logger hands it.
type entries struct {
	mu  sync.Mutex
	got []sink.Entry
}

func (c *entries) WriteEntry(e *sink.Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *e
	cp.Line, cp.ID = slices.Clone(e.Line), slices.Clone(e.ID)
	c.got = append(c.got, cp)
	return nil
}
func (c *entries) Write(p []byte) error        { return c.WriteEntry(&sink.Entry{Line: p}) }
func (c *entries) Flush(context.Context) error { return nil }
func (c *entries) Close(context.Context) error { return nil }

type loaded struct {
	event.Base
	Seq int `json:"seq"`
}

func (loaded) EventName() string { return "Loaded" }

// TestEntryMatchesScan: the key and headers WriteEntry builds from a
// Logger's entry, without reading the line, are those it would build by
// reading the line, for every mix of trace, span and correlation IDs, and
// an event's own correlation_id label makes it read the line.
func TestEntryMatchesScan(t *testing.T) {
	const trace, span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	bg := context.Background()
	withTrace := logctx.WithTrace(bg, trace, span)
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		ev     any
		fixed  []pipelog.Field
		noScan bool // the line is not read
	}{
		{"none", bg, nil, nil, true},
		{"trace+span", withTrace, nil, nil, true},
		{"trace+span+corr", logctx.WithCorrelationID(withTrace, "run-42"), nil, nil, true},
		{"corr=trace", logctx.WithCorrelationID(withTrace, trace), nil, nil, true},
		{"corr only", logctx.WithCorrelationID(bg, "run-42"), nil, nil, true},
		{"hex corr only", logctx.WithCorrelationID(bg, trace), nil, nil, true},
		{"hex corr+span", logctx.WithTrace(logctx.WithCorrelationID(bg, trace), "", span), nil, nil, true},
		{"trace, no span", logctx.WithTrace(bg, trace, ""), nil, nil, true},
		{"malformed trace+corr", logctx.WithCorrelationID(logctx.WithTrace(bg, "XYZ", span), "run-42"), nil, nil, true},
		{"corr with quote", logctx.WithCorrelationID(withTrace, `a"b`), nil, nil, false},
		{"context label", logctx.WithLabel(withTrace, "correlation_id", "lbl"), nil, nil, false},
		{"context label and corr", logctx.WithLabel(logctx.WithCorrelationID(withTrace, "run-42"), "correlation_id", "lbl"), nil, nil, false},
		{"event field label", withTrace, corrField{Base: event.Info("m"), C: "fld"}, nil, false},
		{"event field label and corr", logctx.WithCorrelationID(withTrace, "run-42"), corrField{Base: event.Info("m"), C: "fld"}, nil, false},
		{"fixed label", withTrace, nil, []pipelog.Field{{Key: "labels.correlation_id", Value: "fix"}}, false},
	} {
		c := &entries{}
		log, err := pipelog.New(pipelog.Config{Service: "t", Sinks: []sink.Sink{c}, Fields: tc.fixed,
			OnError: func(err error) { t.Errorf("%s: %v", tc.name, err) }})
		if err != nil {
			t.Fatal(err)
		}
		switch ev := tc.ev.(type) {
		case corrField:
			pipelog.Emit(tc.ctx, log, ev)
		default:
			pipelog.Emit(tc.ctx, log, loaded{Base: event.Info("m"), Seq: 1})
		}
		if err := log.Close(bg); err != nil {
			t.Fatal(err)
		}
		if len(c.got) != 1 || !c.got[0].Traced {
			t.Fatalf("%s: %d entries, %+v", tc.name, len(c.got), c.got)
		}
		e := &c.got[0]
		if got := correlationAsGiven(e); got != tc.noScan {
			t.Errorf("%s: line read: %v, want %v\n%s", tc.name, !got, !tc.noScan, e.Line)
		}
		for _, kf := range []string{"event.id", "trace.id"} {
			fs := newFieldSet(kf)
			var scanned, given traceInfo
			if kf == "event.id" {
				scanned.scan(e.Line, e.ID, &fs)
			} else {
				scanned.scan(e.Line, nil, &fs)
			}
			given.ofEntry(e, true, &fs)
			var a, b rec
			a.fill(e.Line, &scanned)
			b.fill(e.Line, &given)
			if string(a.r.Key) != string(b.r.Key) || !slices.EqualFunc(a.r.Headers, b.r.Headers, func(x, y kgo.RecordHeader) bool {
				return x.Key == y.Key && string(x.Value) == string(y.Value)
			}) {
				t.Errorf("%s, key %s: from the line key %q headers %q; from the entry key %q headers %q\n%s",
					tc.name, kf, a.r.Key, a.r.Headers, b.r.Key, b.r.Headers, e.Line)
			}
		}
	}
}

type corrField struct {
	event.Base
	C string `ecs:"labels.correlation_id"`
}

func (corrField) EventName() string { return "CorrField" }
