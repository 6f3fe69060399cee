package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pipelog/pipelog/event"
)

// MemberError is the error of one sink inside a Multi: it says which sink
// failed. Multi joins them with errors.Join; find them with errors.As.
type MemberError struct {
	Index int  // position of the sink in the Multi call
	Sink  Sink // the sink that failed
	Err   error
}

func (e *MemberError) Error() string {
	return fmt.Sprintf("sink: multi member %d (%T): %v", e.Index, e.Sink, e.Err)
}

func (e *MemberError) Unwrap() error { return e.Err }

// multiSink fans every line out to several sinks.
type multiSink struct {
	sinks  []Sink
	index  []int // position of sinks[i] in the Multi call (nil sinks are dropped)
	level  event.Level
	closed atomic.Bool
}

// Multi returns a sink that writes every line to each of sinks, in order.
// A sink that fails does not stop the others: Write, Flush and Close go to
// every sink and return the failures joined with errors.Join, each a
// *MemberError naming the sink. Flush and Close run on all sinks at once,
// each with the same ctx, so a slow sink does not use up the others' time.
// Nil sinks are ignored.
//
// Entries reach each member as a Logger would hand them (WriteEntry for an
// EntryWriter, Write otherwise, nothing below a Leveled member's level), so
// MinLevel works inside a Multi and around one.
//
// Write is synchronous: a sink that blocks in Write delays the others.
func Multi(sinks ...Sink) Sink {
	m := &multiSink{level: 127}
	for i, s := range sinks {
		if s != nil {
			m.sinks = append(m.sinks, s)
			m.index = append(m.index, i)
			m.level = min(m.level, LevelOf(s))
		}
	}
	if len(m.sinks) == 0 {
		m.level = LevelAll
	}
	return m
}

// Level is the least severe level any member takes.
func (m *multiSink) Level() event.Level { return m.level }

func (m *multiSink) WriteEntry(e *Entry) error {
	if m.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for i, s := range m.sinks {
		if err := WriteTo(s, e); err != nil {
			errs = append(errs, &MemberError{Index: m.index[i], Sink: s, Err: err})
		}
	}
	return errors.Join(errs...)
}

func (m *multiSink) Write(p []byte) error {
	if m.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for i, s := range m.sinks {
		if err := s.Write(p); err != nil {
			errs = append(errs, &MemberError{Index: m.index[i], Sink: s, Err: err})
		}
	}
	return errors.Join(errs...)
}

func (m *multiSink) Flush(ctx context.Context) error {
	if m.closed.Load() {
		return ErrClosed
	}
	return m.each(ctx, Sink.Flush)
}

func (m *multiSink) Close(ctx context.Context) error {
	if !m.closed.CompareAndSwap(false, true) {
		return nil
	}
	return m.each(ctx, Sink.Close)
}

// each calls op on every sink concurrently and joins the failures.
func (m *multiSink) each(ctx context.Context, op func(Sink, context.Context) error) error {
	errs := make([]error, len(m.sinks))
	if len(m.sinks) == 1 {
		errs[0] = op(m.sinks[0], ctx)
	} else {
		var wg sync.WaitGroup
		for i, s := range m.sinks {
			wg.Go(func() { errs[i] = op(s, ctx) })
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			errs[i] = &MemberError{Index: m.index[i], Sink: m.sinks[i], Err: err}
		}
	}
	return errors.Join(errs...)
}
