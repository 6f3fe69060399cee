package sink

// Losses counts the events a sink accepted but did not deliver to its
// destination. A Logger's RunJob reads them after Close to tell whether
// everything the run emitted arrived.
type Losses struct {
	Dropped      uint64 // discarded without delivery (a full queue, say), counted and reported
	DeadLettered uint64 // written to the dead letter instead of the destination
	Undelivered  uint64 // neither delivered nor dead-lettered: lost (the dead letter failed, unsent at Close)
	DeadLetter   string // where dead-lettered events are, when there is such a place (a path)
}

// Total is every event the Losses count.
func (l Losses) Total() uint64 { return l.Dropped + l.DeadLettered + l.Undelivered }

// add sums o into l; the first non-empty DeadLetter is kept.
func (l *Losses) add(o Losses) {
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
		l.add(LossesOf(s))
	}
	return l
}

// Losses is the wrapped sink's.
func (l *levelSink) Losses() Losses { return LossesOf(l.s) }
