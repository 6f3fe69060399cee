package core

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
)

// SamplingRule is how many events of one type and level an interval
// writes: the first First, then one in Thereafter (0: none).
type SamplingRule struct {
	First      uint64
	Thereafter uint64
	Off        bool // never sampled: every event is written
}

// SamplingConfig configures a Core's sampler (see pipelog.Sampling for the
// documented defaults, which the caller applies).
type SamplingConfig struct {
	Interval time.Duration
	Default  SamplingRule
	Types    map[string]SamplingRule // by event name
	Slots    int                     // distinct (type, level) pairs counted apart; a power of two
	Fixed    *encode.Fixed           // the fixed fields of summary lines
}

// sampler decides, per event type and level, which events an interval
// writes, and counts what it drops. Its memory is fixed when it is made: a
// table of slots, one per (type, level) pair met, and one shared slot for
// the pairs met after the table is full. Deciding takes no lock and does
// not allocate: a slot is found by hashing the type's address and probing,
// and claimed once, under mu, for the life of the Logger.
type sampler struct {
	interval int64 // ns
	cfg      SamplingConfig
	mask     uint64
	slots    []sampleSlot
	other    sampleSlot     // every pair once slots are full
	tick     atomic.Int64   // the interval being counted: UnixNano / interval
	dropped  atomic.Uint64  // every event dropped since New
	mu       sync.Mutex     // claiming slots; one summary at a time
	summary  *encode.Type   // event.EventsSampled
	stop     chan struct{}  // closed at Close: ends the ticker goroutine
	done     sync.WaitGroup // the ticker goroutine
}

type sampleSlot struct {
	ti    atomic.Pointer[encode.Type] // nil: free; set last, once, under mu
	level event.Level
	rule  SamplingRule
	tick  atomic.Int64  // the interval n counts
	n     atomic.Uint64 // events seen in that interval
	// dropped counts by interval parity, so that the summary of interval
	// t (which swaps dropped[t&1] to zero) does not take the drops of t+1
	// that concurrent Emits already count. (After a gap of an even number
	// of intervals it may: the drop is then summarised early, never lost.)
	dropped [2]atomic.Uint64
	_       [56]byte // 128 bytes a slot: Emits of two types do not share a cache line (TestSampleSlotSize)
}

// SetSampling turns sampling on. It must be called before the Core is
// shared (pipelog.New does); Close writes the last summaries and stops the
// goroutine that writes them for intervals no Emit ends.
func (c *Core) SetSampling(cfg SamplingConfig) {
	n := 1
	for n < cfg.Slots {
		n <<= 1
	}
	s := &sampler{interval: int64(cfg.Interval), cfg: cfg, mask: uint64(n - 1), slots: make([]sampleSlot, n),
		summary: encode.TypeFor[event.EventsSampled](), stop: make(chan struct{})}
	s.other.rule = cfg.Default
	s.tick.Store(c.now().UnixNano() / s.interval)
	c.sampler = s
	s.done.Add(1)
	go s.ticker(c)
	c.BeforeClose(func() {
		close(s.stop)
		s.done.Wait()
		s.flush(c, c.now())
	})
}

// ticker ends intervals that no Emit ends, so that a summary is not held
// back until the next event of a quiet Logger.
func (s *sampler) ticker(c *Core) {
	defer s.done.Done()
	// Not faster than every 10 ms, however short the interval: Emits end
	// intervals on their own, this only catches the quiet ones.
	t := time.NewTicker(max(time.Duration(s.interval), 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			now := c.now()
			s.advance(c, now.UnixNano()/s.interval, now)
		}
	}
}

// keep reports whether the event of type ti at level, emitted at t, is
// written; a dropped one is counted.
func (s *sampler) keep(c *Core, ti *encode.Type, level event.Level, t time.Time) bool {
	tick := t.UnixNano() / s.interval
	if tick > s.tick.Load() {
		s.advance(c, tick, t)
	}
	sl := s.slot(ti, level)
	if sl.rule.Off {
		return true
	}
	if old := sl.tick.Load(); tick > old && sl.tick.CompareAndSwap(old, tick) {
		// The first event of a new interval for this slot. A concurrent
		// event counted before this Store is forgotten: it may let one
		// event more through, never drop one more.
		sl.n.Store(0)
	}
	n := sl.n.Add(1)
	r := &sl.rule
	if n <= r.First || r.Thereafter > 0 && (n-r.First)%r.Thereafter == 0 {
		return true
	}
	sl.dropped[tick&1].Add(1)
	s.dropped.Add(1)
	return false
}

// slot finds or claims the slot of (ti, level).
func (s *sampler) slot(ti *encode.Type, level event.Level) *sampleSlot {
	h := (uint64(uintptr(unsafe.Pointer(ti))) ^ uint64(uint8(level))) * 0x9E3779B97F4A7C15
	i := h >> 32
	for range len(s.slots) {
		sl := &s.slots[i&s.mask]
		p := sl.ti.Load()
		if p == nil {
			return s.claim(ti, level, i)
		}
		if p == ti && sl.level == level {
			return sl
		}
		i++
	}
	return &s.other
}

// claim takes the first free slot from i on for (ti, level), unless
// another goroutine claimed one for it first.
func (s *sampler) claim(ti *encode.Type, level event.Level, i uint64) *sampleSlot {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range len(s.slots) {
		sl := &s.slots[i&s.mask]
		p := sl.ti.Load()
		if p == ti && sl.level == level {
			return sl
		}
		if p == nil {
			sl.level = level
			sl.rule = s.cfg.Default
			if r, ok := s.cfg.Types[ti.Name()]; ok {
				sl.rule = r
			}
			sl.tick.Store(s.tick.Load())
			sl.ti.Store(ti) // publishes level and rule
			return sl
		}
		i++
	}
	return &s.other
}

// advance moves the sampler to interval tick (if no one did) and writes
// the summaries of the interval it leaves.
func (s *sampler) advance(c *Core, tick int64, now time.Time) {
	old := s.tick.Load()
	if tick <= old || !s.tick.CompareAndSwap(old, tick) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Unix(0, old*s.interval).UTC()
	s.summarize(c, int(old&1), start, start.Add(time.Duration(s.interval)), now)
}

// flush writes the summaries of what was dropped and not yet summarised
// (Close).
func (s *sampler) flush(c *Core, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tick := s.tick.Load()
	start := time.Unix(0, tick*s.interval).UTC()
	s.summarize(c, int((tick-1)&1), start.Add(-time.Duration(s.interval)), start, now)
	s.summarize(c, int(tick&1), start, now.UTC(), now)
}

// summarize writes one EventsSampled line for every slot that dropped
// events of parity p, and resets those counts.
func (s *sampler) summarize(c *Core, p int, start, end, now time.Time) {
	for i := range s.slots {
		sl := &s.slots[i]
		ti := sl.ti.Load()
		if ti == nil {
			continue
		}
		s.summarizeSlot(c, sl, ti.Name(), p, start, end, now)
	}
	s.summarizeSlot(c, &s.other, OtherEvents, p, start, end, now)
}

// OtherEvents is the event name of the summary of events whose types came
// after the sampler's table was full.
const OtherEvents = "(other)"

func (s *sampler) summarizeSlot(c *Core, sl *sampleSlot, name string, p int, start, end, now time.Time) {
	d := sl.dropped[p].Swap(0)
	if d == 0 {
		return
	}
	ev := event.NewEventsSampled(name, sl.level, d, start, end)
	ln := c.GetLine()
	rec := encode.Record{Time: now, EventID: ln.ID()}
	var err error
	ln.Buf, err = c.Enc.AppendEvent(ln.Buf, s.cfg.Fixed, &rec, s.summary, unsafe.Pointer(&ev), encode.Box(s.summary, &ev))
	if err != nil {
		c.Fail(err)
	}
	c.Write(ln, &rec, ev.Level, s.summary.Name())
	PutLine(ln)
}

// sampledTotal is every event the sampler dropped; 0 without one.
func (s *sampler) sampledTotal() uint64 {
	if s == nil {
		return 0
	}
	return s.dropped.Load()
}
