// Package pipelogtest helps users test code that logs with pipelog: an
// Observer sink that keeps every line and decodes it into inspectable
// events, filters over them (event name, level, field path), assertions
// that an event was emitted with given fields, and CheckECS, the ECS and
// ecs-logging conformance check pipelog's own tests use. It is to pipelog
// what zaptest/observer and testing/slogtest are to zap and slog.
//
//	obs := pipelogtest.NewObserver()
//	log, _ := pipelog.New(pipelog.Config{Service: "svc", Sinks: []sink.Sink{obs}})
//	code.Under(test, log)
//	pipelogtest.RequireEvent(t, obs, "RowRejected", map[string]any{"event.reason": "amount: not positive"})
//	pipelogtest.CheckECS(t, obs.Bytes())
//
// Field paths are dotted, as Elasticsearch names fields: "event.action",
// "log.level", "Pipelog.RowRejected.row" for a custom field. A line may
// spell a path as nested objects or as a dotted key ("log.level"); both are
// found. Expected values are compared as JSON: 3 matches 3.0, a []string
// matches a JSON array of the same strings.
//
// The package imports the standard library, package sink and the module's
// internal conformance checker; it is meant for _test.go files.
package pipelogtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/sink"
)

// Observer is a sink.Sink that keeps every line written to it, in order.
// It is safe for concurrent use. Write after Close returns sink.ErrClosed;
// the lines stay readable.
type Observer struct {
	mu     sync.Mutex
	lines  [][]byte
	closed bool
}

var _ sink.Sink = (*Observer)(nil)

// NewObserver returns an empty Observer.
func NewObserver() *Observer { return &Observer{} }

// Write keeps a copy of p.
func (o *Observer) Write(p []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return sink.ErrClosed
	}
	o.lines = append(o.lines, bytes.Clone(p))
	return nil
}

// Flush does nothing: a line is kept as soon as Write returns.
func (o *Observer) Flush(context.Context) error { return nil }

// Close marks the Observer closed. A second Close returns nil.
func (o *Observer) Close(context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	return nil
}

// Lines returns the lines written so far (each a copy, with its '\n').
func (o *Observer) Lines() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([][]byte, len(o.lines))
	for i, l := range o.lines {
		out[i] = bytes.Clone(l)
	}
	return out
}

// Bytes returns everything written, as one NDJSON document.
func (o *Observer) Bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Join(o.lines, nil)
}

// Reset forgets the lines written so far.
func (o *Observer) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = nil
}

// Events decodes the lines written so far. A line that is not a JSON
// object becomes an Event with Err set and no fields.
func (o *Observer) Events() Events {
	lines := o.Lines()
	out := make(Events, len(lines))
	for i, l := range lines {
		out[i] = Decode(l)
	}
	return out
}

// Event is one decoded line.
type Event struct {
	Line   []byte         // the line as written
	Fields map[string]any // decoded with encoding/json (numbers are float64)
	Err    error          // why the line could not be decoded, or nil
}

// Decode decodes one line into an Event.
func Decode(line []byte) Event {
	e := Event{Line: line}
	d := json.NewDecoder(bytes.NewReader(line))
	if err := d.Decode(&e.Fields); err != nil {
		e.Err = fmt.Errorf("pipelogtest: line is not a JSON object: %w", err)
		e.Fields = nil
	} else if d.More() {
		e.Err = fmt.Errorf("pipelogtest: more than one JSON value on the line")
	}
	return e
}

// Get returns the value at a dotted path, or nil. A top-level dotted key
// ("log.level") is tried before nested objects, and at each level the
// longest key that is a dotted prefix of the rest.
func (e Event) Get(path string) any {
	v, _ := lookup(e.Fields, path)
	return v
}

// Has reports whether the event has a value (possibly null) at path.
func (e Event) Has(path string) bool {
	_, ok := lookup(e.Fields, path)
	return ok
}

func lookup(obj map[string]any, path string) (any, bool) {
	if obj == nil {
		return nil, false
	}
	if v, ok := obj[path]; ok {
		return v, true
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		child, ok := obj[path[:i]].(map[string]any)
		if !ok {
			continue
		}
		if v, ok := lookup(child, path[i+1:]); ok {
			return v, true
		}
	}
	return nil, false
}

// Name is the event's event.action: the typed event's name.
func (e Event) Name() string { s, _ := e.Get("event.action").(string); return s }

// Level is the event's log.level ("info", "warn", ...).
func (e Event) Level() string { s, _ := e.Get("log.level").(string); return s }

// Message is the event's message.
func (e Event) Message() string { s, _ := e.Get("message").(string); return s }

// Events is a list of decoded lines, in the order they were written.
type Events []Event

// Named keeps the events whose event.action is name.
func (es Events) Named(name string) Events {
	return es.Filter(func(e Event) bool { return e.Name() == name })
}

// AtLevel keeps the events at level l.
func (es Events) AtLevel(l event.Level) Events {
	want := l.String()
	return es.Filter(func(e Event) bool { return e.Level() == want })
}

// With keeps the events that have a value at path.
func (es Events) With(path string) Events {
	return es.Filter(func(e Event) bool { return e.Has(path) })
}

// Where keeps the events whose value at path equals want, compared as
// JSON.
func (es Events) Where(path string, want any) Events {
	w, err := normalise(want)
	if err != nil {
		return nil
	}
	return es.Filter(func(e Event) bool {
		v, ok := lookup(e.Fields, path)
		return ok && reflect.DeepEqual(v, w)
	})
}

// Filter keeps the events keep reports true for.
func (es Events) Filter(keep func(Event) bool) Events {
	var out Events
	for _, e := range es {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Names lists the events' names, in order (for failure messages).
func (es Events) Names() []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name()
	}
	return out
}

// normalise turns v into what encoding/json decodes its encoding into.
func normalise(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// mismatch describes how e differs from fields ("" when it does not).
func mismatch(e Event, fields map[string]any) string {
	paths := make([]string, 0, len(fields))
	for p := range fields {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var diffs []string
	for _, p := range paths {
		want, err := normalise(fields[p])
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: expected value does not encode as JSON: %v", p, err))
			continue
		}
		got, ok := lookup(e.Fields, p)
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing, want %s", p, js(want)))
		case !reflect.DeepEqual(got, want):
			diffs = append(diffs, fmt.Sprintf("%s: %s, want %s", p, js(got), js(want)))
		}
	}
	return strings.Join(diffs, "; ")
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// FindEvent returns the first event named name that has every field of
// fields (dotted path → expected value), and whether there is one. The
// report says, when there is none, how the closest candidates differ.
func FindEvent(o *Observer, name string, fields map[string]any) (Event, string, bool) {
	all := o.Events()
	named := all.Named(name)
	if len(named) == 0 {
		return Event{}, fmt.Sprintf("no event %q among %d: %q", name, len(all), all.Names()), false
	}
	var why []string
	for i, e := range named {
		d := mismatch(e, fields)
		if d == "" {
			return e, "", true
		}
		if i < 3 {
			why = append(why, fmt.Sprintf("#%d: %s", i+1, d))
		}
	}
	return Event{}, fmt.Sprintf("%d event(s) %q, none with the fields:\n\t%s", len(named), name, strings.Join(why, "\n\t")), false
}

// AssertEvent reports an error on t unless o received an event named name
// with every field of fields; it returns the event and whether there was
// one.
func AssertEvent(t testing.TB, o *Observer, name string, fields map[string]any) (Event, bool) {
	t.Helper()
	e, why, ok := FindEvent(o, name, fields)
	if !ok {
		t.Errorf("pipelogtest: %s", why)
	}
	return e, ok
}

// RequireEvent is AssertEvent that stops the test (t.FailNow) when there
// is no such event.
func RequireEvent(t testing.TB, o *Observer, name string, fields map[string]any) Event {
	t.Helper()
	e, ok := AssertEvent(t, o, name, fields)
	if !ok {
		t.FailNow()
	}
	return e
}

// AssertNoEvent reports an error on t for each event named name o received.
func AssertNoEvent(t testing.TB, o *Observer, name string) bool {
	t.Helper()
	named := o.Events().Named(name)
	for _, e := range named {
		t.Errorf("pipelogtest: unexpected event %q: %s", name, bytes.TrimSpace(e.Line))
	}
	return len(named) == 0
}

// CheckECS reports an error on t for every line of ndjson (one JSON
// object per line, each ending in '\n') that breaks the ecs-logging spec
// or the ECS field set: required fields and their order, field types,
// label keys, the ECS version. It returns whether every line conforms;
// empty input is an error.
func CheckECS(t testing.TB, ndjson []byte) bool {
	t.Helper()
	errs := conformance.CheckLines(ndjson)
	for _, err := range errs {
		t.Errorf("pipelogtest: %v", err)
	}
	return len(errs) == 0
}
