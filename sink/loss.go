package sink

import (
	"errors"
	"fmt"
	"strings"
)

// Losses counts the events a sink accepted (its Write returned nil) but did
// not deliver to its destination; an event its Write refused is the
// caller's to count (a Logger counts it in Stats.Failed). A Logger's Close
// and RunJob read them after closing the sinks to tell whether everything
// arrived.
type Losses struct {
	Dropped      uint64 // discarded without delivery (a full queue, say), counted and reported
	DeadLettered uint64 // written to the dead letter instead of the destination
	Undelivered  uint64 // neither delivered nor dead-lettered: lost (the dead letter failed, unsent at Close)
	DeadLetter   string // where dead-lettered events are, when there is such a place (a path)
}

// Total is every event the Losses count.
func (l Losses) Total() uint64 { return l.Dropped + l.DeadLettered + l.Undelivered }

// Add sums o into l; the first non-empty DeadLetter is kept.
func (l *Losses) Add(o Losses) {
	l.Dropped += o.Dropped
	l.DeadLettered += o.DeadLettered
	l.Undelivered += o.Undelivered
	if l.DeadLetter == "" {
		l.DeadLetter = o.DeadLetter
	}
}

// LossReporter is a sink that counts what it did not deliver. Multi and
// MinLevel report the sum of what their members report.
type LossReporter interface {
	Sink
	Losses() Losses
}

// LossesOf returns s's Losses, or none for a sink that does not count them.
func LossesOf(s Sink) Losses {
	if r, ok := s.(LossReporter); ok {
		return r.Losses()
	}
	return Losses{}
}

// Losses is the sum over the members.
func (m *multiSink) Losses() Losses {
	var l Losses
	for _, s := range m.sinks {
		l.Add(LossesOf(s))
	}
	return l
}

// Losses is the wrapped sink's.
func (l *levelSink) Losses() Losses { return LossesOf(l.s) }

// ErrLost is matched (errors.Is) by every *LossError.
var ErrLost = errors.New("events not delivered")

// LossError says how many events were not delivered and where they went. A
// Logger's Close returns it (joined with the sinks' own errors) when any
// sink reports Losses or any event was refused by every sink; RunJob's last
// line is its message.
type LossError struct{ Losses Losses }

func (e *LossError) Error() string { return "pipelog: " + e.Losses.String() }

// String says how many events were not delivered and where they went:
// "3 event(s) not delivered: 2 dead-lettered to PATH, 1 dropped".
func (l Losses) String() string {
	var parts []string
	if l.DeadLettered > 0 {
		where := "the dead letter"
		if l.DeadLetter != "" {
			where = l.DeadLetter
		}
		parts = append(parts, fmt.Sprintf("%d dead-lettered to %s", l.DeadLettered, where))
	}
	if l.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d dropped", l.Dropped))
	}
	if l.Undelivered > 0 {
		parts = append(parts, fmt.Sprintf("%d lost (undelivered)", l.Undelivered))
	}
	if len(parts) == 0 {
		return "every event delivered"
	}
	return fmt.Sprintf("%d event(s) not delivered: %s", l.Total(), strings.Join(parts, ", "))
}

// Is reports whether target is ErrLost.
func (e *LossError) Is(target error) bool { return target == ErrLost }
