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
// reading the line, for every mix of trace, span and correlation IDs.
func TestEntryMatchesScan(t *testing.T) {
	const trace, span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	bg := context.Background()
	ctxs := map[string]context.Context{
		"none":                 bg,
		"trace+span":           logctx.WithTrace(bg, trace, span),
		"trace+span+corr":      logctx.WithCorrelationID(logctx.WithTrace(bg, trace, span), "run-42"),
		"corr=trace":           logctx.WithCorrelationID(logctx.WithTrace(bg, trace, span), trace),
		"corr only":            logctx.WithCorrelationID(bg, "run-42"),
		"hex corr only":        logctx.WithCorrelationID(bg, trace),
		"hex corr+span":        logctx.WithTrace(logctx.WithCorrelationID(bg, trace), "", span),
		"trace, no span":       logctx.WithTrace(bg, trace, ""),
		"malformed trace+corr": logctx.WithCorrelationID(logctx.WithTrace(bg, "XYZ", span), "run-42"),
	}
	for name, ctx := range ctxs {
		c := &entries{}
		log, err := pipelog.New(pipelog.Config{Service: "t", Sinks: []sink.Sink{c},
			OnError: func(err error) { t.Errorf("%s: %v", name, err) }})
		if err != nil {
			t.Fatal(err)
		}
		pipelog.Emit(ctx, log, loaded{Base: event.Info("m"), Seq: 1})
		if err := log.Close(bg); err != nil {
			t.Fatal(err)
		}
		if len(c.got) != 1 || !c.got[0].Traced {
			t.Fatalf("%s: %d entries, %+v", name, len(c.got), c.got)
		}
		e := &c.got[0]
		for _, kf := range []string{"event.id", "trace.id"} {
			fs := newFieldSet(kf)
			var scanned, given traceInfo
			if kf == "event.id" {
				scanned.scan(e.Line, e.ID, &fs)
			} else {
				scanned.scan(e.Line, nil, &fs)
			}
			given.fromEntry(e, kf)
			var a, b rec
			a.fill(e.Line, &scanned)
			b.fill(e.Line, &given)
			if string(a.r.Key) != string(b.r.Key) || !slices.EqualFunc(a.r.Headers, b.r.Headers, func(x, y kgo.RecordHeader) bool {
				return x.Key == y.Key && string(x.Value) == string(y.Value)
			}) {
				t.Errorf("%s, key %s: from the line key %q headers %q; from the entry key %q headers %q\n%s",
					name, kf, a.r.Key, a.r.Headers, b.r.Key, b.r.Headers, e.Line)
			}
		}
	}
}
