package pipelog

import (
	"os"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// DevelopmentConfig is the preset for working on a service locally, as
// zap.NewDevelopmentConfig is: readable console lines on standard error
// (sink.NewConsole, coloured on a terminal, NO_COLOR respected), every level
// from debug up, and the caller (log.origin.*) on each line. Change what
// you like before New; keep the JSON sinks for anything that is shipped.
func DevelopmentConfig(service string) Config {
	return Config{
		Service: service,
		Level:   event.LevelDebug,
		Caller:  true,
		Sinks:   []sink.Sink{sink.NewConsole(os.Stderr, sink.ConsoleConfig{})},
	}
}

// NewDevelopment is New(DevelopmentConfig(service)).
func NewDevelopment(service string) (*Logger, error) { return New(DevelopmentConfig(service)) }
