package event

import (
	"strconv"
	"time"
)

// EventsSampled is the summary a sampling Logger writes (pipelog.Sampling)
// at the end of each interval, once for every event type and level of
// which it dropped events, and at Close for the interval under way. It has
// the level of the events it counts, so it passes the same filters.
//
// ECS mapping:
//
//	Kind     event.kind    "event"
//	Start    event.start   the interval's start
//	End      event.end     its end (at Close: the time of Close)
//	Event    Pipelog.EventsSampled.event    the name of the sampled events' type
//	EventLevel  Pipelog.EventsSampled.level  their level
//	Dropped  Pipelog.EventsSampled.dropped  how many were not written
type EventsSampled struct {
	Base
	Kind       string    `ecs:"event.kind"`
	Start      time.Time `ecs:"event.start"`
	End        time.Time `ecs:"event.end"`
	Event      string    `json:"event"`
	EventLevel string    `json:"level"`
	Dropped    uint64    `json:"dropped"`
}

// NewEventsSampled returns the summary of dropped events of the type
// named name at level in [start, end).
func NewEventsSampled(name string, level Level, dropped uint64, start, end time.Time) EventsSampled {
	return EventsSampled{
		Base:  Base{Level: level, Message: "sampling dropped " + strconv.FormatUint(dropped, 10) + " " + name + " events"},
		Kind:  "event",
		Start: start, End: end, Event: name, EventLevel: level.String(), Dropped: dropped,
	}
}

// LoggerStats is the self-monitoring event a Logger writes every
// pipelog.Config.StatsInterval and at Close (level info): its counters
// (pipelog.Stats) and what its sinks report they did not deliver
// (sink.Losses, summed over the sinks).
//
// ECS mapping: Kind is event.kind "metric"; the counters go under
// Pipelog.LoggerStats (written, failed, dropped, sink_errors, errors,
// sampled, enricher_panics, sink_dropped, sink_dead_lettered,
// sink_undelivered), as numbers that only grow.
type LoggerStats struct {
	Base
	Kind             string `ecs:"event.kind"`
	Written          uint64 `json:"written"`
	Failed           uint64 `json:"failed"`
	Dropped          uint64 `json:"dropped"`
	SinkErrors       uint64 `json:"sink_errors"`
	Errors           uint64 `json:"errors"`
	Sampled          uint64 `json:"sampled"`
	EnricherPanics   uint64 `json:"enricher_panics"`
	SinkDropped      uint64 `json:"sink_dropped"`
	SinkDeadLettered uint64 `json:"sink_dead_lettered"`
	SinkUndelivered  uint64 `json:"sink_undelivered"`
}
