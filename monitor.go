package pipelog

import (
	"context"
	"sync"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// startMonitor writes an event.LoggerStats line every interval, from a
// goroutine the Logger owns: Close stops it (before the sinks close) and
// writes one last LoggerStats with the totals so far.
func (l *Logger) startMonitor(interval time.Duration) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.emitStats()
			}
		}
	}()
	l.h.C.BeforeClose(func() {
		close(stop)
		wg.Wait()
		l.emitStats()
	})
}

func (l *Logger) emitStats() {
	Emit(context.Background(), l, l.statsEvent())
}

// statsEvent is the Logger's Stats and its sinks' summed Losses as an event.
func (l *Logger) statsEvent() event.LoggerStats {
	s := l.Stats()
	var lost sink.Losses
	for _, sk := range l.h.C.Sinks() {
		lost.Add(sink.LossesOf(sk))
	}
	return event.LoggerStats{Base: event.Info("pipelog stats"), Kind: "metric",
		Written: s.Written, Failed: s.Failed, Dropped: s.Dropped, SinkErrors: s.SinkErrors, Errors: s.Errors,
		Sampled: s.Sampled, EnricherPanics: s.EnricherPanics,
		SinkDropped: lost.Dropped, SinkDeadLettered: lost.DeadLettered, SinkUndelivered: lost.Undelivered}
}
