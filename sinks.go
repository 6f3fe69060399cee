package pipelog

import (
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// MinLevel wraps s so that a Logger writes only events at level or above to
// it. It is how one Logger sends everything to a file but only errors to
// Elasticsearch. Sinks know bytes, not levels, so the filter lives here and
// costs the Logger one comparison per sink; used as a plain Sink outside a
// Logger, the wrapper passes everything through.
func MinLevel(s sink.Sink, level event.Level) sink.Sink { return &minLevelSink{Sink: s, min: level} }

type minLevelSink struct {
	sink.Sink
	min event.Level
}

type leveledSink struct {
	sink.Sink
	min event.Level
}

// write hands line to every sink that takes level.
func (c *core) write(level event.Level, line []byte) {
	if c.closed.Load() {
		if c.stats.dropped.Add(1) == 1 {
			c.fail(ErrClosed)
		}
		return
	}
	for i := range c.sinks {
		s := &c.sinks[i]
		if level < s.min {
			continue
		}
		if err := s.Write(line); err != nil {
			c.stats.sinkErrors.Add(1)
			c.fail(&SinkError{Sink: s.Sink, Err: err})
			continue
		}
	}
	c.stats.written.Add(1)
}
