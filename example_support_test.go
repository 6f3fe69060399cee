package pipelog_test

import (
	"time"

	"github.com/pipelog/pipelog/internal/testlog"
)

// exampleNow is the examples' clock.
func exampleNow() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }

// exampleLocalNow is the clock of examples with a console sink: in
// time.Local, so that the console, which prints local time, shows
// 10:00:00.000 in every time zone.
func exampleLocalNow() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.Local) }

// stable removes event.id and process.pid from the examples' lines (see
// testlog.Stable).
type stable = testlog.Stable
