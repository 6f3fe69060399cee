package elasticsearch

import "github.com/pipelog/pipelog/sink"

var _ sink.LossReporter = (*Sink)(nil)

// Losses counts the accepted events (Write returned nil) that were not
// indexed: dead-lettered (DeadLettered; invalid lines, which Write
// refused, are not counted), lost because the dead letter refused them too
// (Undelivered), and events a full disk queue deleted under
// DiskFullDropOldest (Dropped). Events that stay in the disk queue at
// Close are not counted: a sink started on the directory sends them
// (Stats.DiskLeft counts them). DeadLetter is the dead-letter file's path
// when the sink writes its own.
func (s *Sink) Losses() sink.Losses {
	l := sink.Losses{
		DeadLettered: uint64(max(0, s.st.dead.Load()-s.st.rejected.Load())),
		Undelivered:  uint64(s.st.deadFailed.Load()),
	}
	if s.dq != nil {
		l.Dropped = uint64(s.dq.Stats().DroppedOldest)
	}
	if f, ok := s.dl.(*sink.DeadLetterFile); ok {
		l.DeadLetter = f.Path()
	}
	return l
}
