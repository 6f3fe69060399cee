package pipelog

import (
	"errors"
	"fmt"
	"time"

	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/internal/encode"
)

// Sampling keeps a flood of one event type from flooding the sinks without
// hiding how large it was: per event type and level, each interval writes
// the first First events, then one in Thereafter, and drops the rest. At
// the end of each interval (and at Close) the Logger writes one
// event.EventsSampled per type and level it dropped events of, saying how
// many; Stats.Sampled counts them all. The zero Sampling is a sensible
// default: 1 s intervals, the first 100, then one in 100.
//
// Sampling happens after the level check and before any encoding, so a
// dropped event costs a clock read, a table lookup and two atomic adds,
// and allocates nothing. Its memory is fixed when the Logger is made
// (MaxTypes slots of 128 bytes). The clock is Config.Now, so tests that
// inject a clock decide where intervals end. Adapter lines (slog, zap) are
// not sampled: they have no event type.
type Sampling struct {
	// Interval is the counting period (0: 1 s). Its boundaries are
	// multiples of Interval since the Unix epoch, the same for every type.
	Interval time.Duration
	// First is how many events of a type and level an interval writes
	// before sampling them (0: 100; < 0: none).
	First int
	// Thereafter: after the first First, every Thereafter-th event is
	// written (0: 100; 1: all of them; < 0: none).
	Thereafter int
	// Types overrides First and Thereafter per event name (its type's
	// name, the event.action of its lines), with the same zero values.
	Types map[string]SamplingRule
	// MaxTypes is how many (type, level) pairs are counted apart (0: 256).
	// Pairs met after that share one count, summarised as event "(other)".
	MaxTypes int
}

// SamplingRule is the sampling of one event type (Sampling.Types).
type SamplingRule struct {
	First      int  // as Sampling.First
	Thereafter int  // as Sampling.Thereafter
	Off        bool // never sample this type: write every event
}

func (s *Sampling) config(fx *encode.Fixed) (core.SamplingConfig, error) {
	if s.Interval < 0 || s.MaxTypes < 0 {
		return core.SamplingConfig{}, errors.New("Config.Sampling: Interval and MaxTypes must not be negative")
	}
	cfg := core.SamplingConfig{Interval: s.Interval, Slots: s.MaxTypes, Fixed: fx,
		Default: SamplingRule{First: s.First, Thereafter: s.Thereafter}.core()}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	if cfg.Slots == 0 {
		cfg.Slots = 256
	}
	if len(s.Types) > 0 {
		cfg.Types = make(map[string]core.SamplingRule, len(s.Types))
		for name, r := range s.Types {
			if name == "" {
				return core.SamplingConfig{}, fmt.Errorf("Config.Sampling.Types: an empty event name")
			}
			cfg.Types[name] = r.core()
		}
	}
	return cfg, nil
}

func (r SamplingRule) core() core.SamplingRule {
	count := func(n int) uint64 {
		switch {
		case n == 0:
			return 100
		case n < 0:
			return 0
		}
		return uint64(n)
	}
	return core.SamplingRule{First: count(r.First), Thereafter: count(r.Thereafter), Off: r.Off}
}
