package pipelog_test

import (
	"io"
	"regexp"
	"time"
)

// exampleNow is the examples' clock.
func exampleNow() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }

// exampleLocalNow is the clock of examples with a console sink: in
// time.Local, so that the console, which prints local time, shows
// 10:00:00.000 in every time zone.
func exampleLocalNow() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.Local) }

// stable is an io.Writer for the examples' output: it removes event.id
// (random per Logger) and process.pid from each line, so the printed lines
// are the same on every run. Real lines keep both.
type stable struct{ w io.Writer }

// stableNoTime also removes @timestamp: slog and zap stamp their records
// with time.Now, which an example's output cannot show.
type stableNoTime struct{ w io.Writer }

var recordTime = regexp.MustCompile(`"@timestamp":"[^"]*",`)

func (s stableNoTime) Write(p []byte) (int, error) {
	_, err := stable{s.w}.Write(recordTime.ReplaceAll(p, nil))
	return len(p), err
}

var unstable = regexp.MustCompile(`,"id":"[0-9a-f]{32}"|,"process":\{"pid":\d+\}`)

func (s stable) Write(p []byte) (int, error) {
	_, err := s.w.Write(unstable.ReplaceAll(p, nil))
	return len(p), err
}
