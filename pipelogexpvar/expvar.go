// Package pipelogexpvar publishes a pipelog Logger's counters through the
// standard library's expvar, at /debug/vars. It is a package of its own
// because importing expvar registers that handler on
// http.DefaultServeMux (and publishes cmdline and memstats): a program
// gets that only by asking for it.
//
// The published value is JSON:
//
//	{"written":120,"failed":0,"dropped":0,"sink_errors":0,"errors":0,"sampled":9800,"enricher_panics":0,
//	 "sinks":[{"name":"0:*elasticsearch.Sink","dropped":0,"dead_lettered":2,"undelivered":0,"dead_letter":"…"}]}
//
// The counters are pipelog.Stats; each sink's are its sink.Losses. For an
// Elasticsearch sink's full counters, publish them beside it:
//
//	expvar.Publish("pipelog.es", expvar.Func(func() any { return es.Stats() }))
package pipelogexpvar

import (
	"expvar"
	"fmt"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/sink"
)

// Stats is the published value: the Logger's counters and its sinks'.
type Stats struct {
	pipelog.Stats
	Sinks []SinkStats `json:"sinks"`
}

// SinkStats is one sink's sink.Losses.
type SinkStats struct {
	Name         string `json:"name"` // "<index>:<type>", in Config.Sinks order
	Dropped      uint64 `json:"dropped"`
	DeadLettered uint64 `json:"dead_lettered"`
	Undelivered  uint64 `json:"undelivered"`
	DeadLetter   string `json:"dead_letter,omitempty"`
}

// Func returns an expvar.Func reading log's counters each time it is
// asked (expvar calls it for every GET of /debug/vars).
func Func(log *pipelog.Logger) expvar.Func {
	var sinks []sink.Sink
	if h := core.LoggerHandle(log); h != nil {
		sinks = h.C.Sinks()
	}
	return func() any {
		out := Stats{Stats: log.Stats(), Sinks: make([]SinkStats, len(sinks))}
		for i, s := range sinks {
			l := sink.LossesOf(s)
			out.Sinks[i] = SinkStats{Name: fmt.Sprintf("%d:%T", i, s), Dropped: l.Dropped, DeadLettered: l.DeadLettered,
				Undelivered: l.Undelivered, DeadLetter: l.DeadLetter}
		}
		return out
	}
}

// Publish publishes Func(log) as the expvar name. Unlike expvar.Publish, a
// name already taken is an error, not a panic.
func Publish(name string, log *pipelog.Logger) error {
	if expvar.Get(name) != nil {
		return fmt.Errorf("pipelogexpvar: %q is already published", name)
	}
	expvar.Publish(name, Func(log))
	return nil
}
