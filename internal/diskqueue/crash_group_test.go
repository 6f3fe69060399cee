package diskqueue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash-consistency property on the committer path (SyncBatch, not
// Manual): concurrent appenders, a consumer reading, acknowledging and
// checkpointing while they append, a crash at a random file operation
// (every later operation fails), then a restart on what the disk kept.

// groupRun is one such run. payloads[w][i] is appender w's i-th record;
// results[w][i] what its Append returned (nil: acknowledged as durable).
type groupRun struct {
	payloads [][][]byte
	results  [][]error
}

func groupID(w, i int) string { return strconv.Itoa(w) + "-" + strconv.Itoa(i) }

// check returns a description of why data is not exactly a record that
// was passed to Append ("" when it is), and its appender and index.
func (g *groupRun) check(data []byte) (w, i int, msg string) {
	id := idOf(data)
	ws, is, ok := strings.Cut(id, "-")
	w, err1 := strconv.Atoi(ws)
	i, err2 := strconv.Atoi(is)
	if !ok || err1 != nil || err2 != nil || w < 0 || w >= len(g.payloads) || i < 0 || i >= len(g.payloads[w]) {
		return 0, 0, fmt.Sprintf("read a record never appended: %q", data)
	}
	if want := g.payloads[w][i]; string(want) != string(data) {
		return 0, 0, fmt.Sprintf("record %s read back different: %q, want %q", id, data, want)
	}
	return w, i, ""
}

// stream checks one reader's deliveries as they come: each record valid,
// read once, and in its appender's order.
type stream struct {
	g    *groupRun
	seen map[string]bool
	last []int // per appender, the last index read (-1: none)
}

func newStream(g *groupRun) *stream {
	s := &stream{g: g, seen: map[string]bool{}, last: make([]int, len(g.payloads))}
	for w := range s.last {
		s.last[w] = -1
	}
	return s
}

func (s *stream) add(r Record) (string, string) {
	w, i, msg := s.g.check(r.Data)
	if msg != "" {
		return "", msg
	}
	id := groupID(w, i)
	if s.seen[id] {
		return "", fmt.Sprintf("record %s read twice", id)
	}
	s.seen[id] = true
	if i <= s.last[w] {
		return "", fmt.Sprintf("appender %d: record %d read after %d", w, i, s.last[w])
	}
	s.last[w] = i
	return id, ""
}

// consumer is the goroutine that reads before the crash. A record counts
// as delivered ("indexed") only once acknowledged, as the sink acks after
// Elasticsearch answered: what is read but not acknowledged must come back.
type consumer struct {
	q        *Queue
	rng      *rand.Rand
	st       *stream
	ckpt     bool // the consumer checkpoints (else the queue's goroutine does)
	indexed  map[string]bool
	unacked  []pendingAck
	ckptPos  Pos // last position a Checkpoint that returned nil covered
	ckptDone bool
	fail     string
}

type pendingAck struct {
	seq uint64
	id  string
}

func (c *consumer) ack(m int) {
	c.rng.Shuffle(len(c.unacked), func(i, j int) { c.unacked[i], c.unacked[j] = c.unacked[j], c.unacked[i] })
	for _, a := range c.unacked[:m] {
		c.indexed[a.id] = true
		c.q.Ack(a.seq)
	}
	c.unacked = c.unacked[m:]
}

func (c *consumer) checkpoint() {
	if !c.ckpt {
		return
	}
	at := c.q.Acked()
	if c.q.Checkpoint() == nil {
		c.ckptPos, c.ckptDone = at, true
	}
}

func (c *consumer) run(ctx context.Context) {
	var buf []Record
	for {
		recs, err := c.q.ReadBatch(canceled, 1+c.rng.IntN(8), buf[:0])
		if errors.Is(err, context.Canceled) && len(recs) == 0 {
			// Nothing ready: acknowledge everything read, so that a
			// Block appender waiting for space is freed, then wait.
			c.ack(len(c.unacked))
			c.checkpoint()
			recs, err = c.q.ReadBatch(ctx, 1+c.rng.IntN(8), buf[:0])
		}
		if err != nil {
			return // stopped, closed, or the crash broke the reads
		}
		for _, r := range recs {
			id, msg := c.st.add(r)
			if msg != "" {
				c.fail = "before the crash: " + msg
				return
			}
			c.unacked = append(c.unacked, pendingAck{r.Seq, id})
		}
		buf = recs
		if c.rng.IntN(3) == 0 {
			c.ack(c.rng.IntN(len(c.unacked) + 1))
		}
		if c.rng.IntN(4) == 0 {
			c.checkpoint()
		}
	}
}

// groupStats counts what the runs exercised (logged, so that a run that
// stops crashing mid-workload shows).
type groupStats struct {
	runs, midRun, durable, readAgain, blocked, dropped, torn int64
}

func runGroupCrash(seed uint64, full FullPolicy, gs *groupStats) (msg string) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &groupRun{}
	writers := 2 + rng.IntN(7)
	total := 0
	for w := range writers {
		recs := make([][]byte, 1+rng.IntN(40))
		for i := range recs {
			recs[i] = payload(rng, groupID(w, i))
		}
		g.payloads = append(g.payloads, recs)
		total += len(recs)
	}
	g.results = make([][]error, writers)
	// Roughly two file operations per group commit: the crash point
	// falls anywhere in the run, or after it (then at its end).
	fsys := newFaultFS(rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())), 1+rng.IntN(total+20), nil)
	segBytes := int64(256 + rng.IntN(2048))
	cfg := Config{Dir: "q", FS: fsys, Sync: SyncBatch, Full: full, SegmentBytes: segBytes, MaxBytes: 1 << 20, CheckpointInterval: time.Hour}
	if rng.IntN(2) == 0 || full != Block {
		// Small: Block appenders wait for the consumer's acks and
		// checkpoints (the active segment alone always fits).
		cfg.MaxBytes = 3*segBytes + 1024 + int64(rng.IntN(2048))
	}
	c := &consumer{rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())), st: newStream(g), ckpt: rng.IntN(3) != 0, indexed: map[string]bool{}}
	if !c.ckpt {
		cfg.CheckpointInterval = time.Millisecond // the sink's way: the queue's goroutine checkpoints
	}
	q, _, err := Open(cfg)
	if err != nil {
		return "first open: " + err.Error()
	}
	c.q = q
	hung := time.AfterFunc(20*time.Second, func() { panic(fmt.Sprintf("diskqueue group crash run, seed %d: hung", seed)) })
	defer hung.Stop()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var appenders, reader sync.WaitGroup
	for w := range writers {
		appenders.Go(func() {
			for _, p := range g.payloads[w] {
				g.results[w] = append(g.results[w], q.Append(p))
			}
		})
	}
	reader.Go(func() { c.run(ctx) })
	allAppended := make(chan struct{})
	go func() { appenders.Wait(); close(allAppended) }()
	select {
	case <-allAppended:
	case <-fsys.crashCh:
		gs.midRun++
	}
	fsys.crash()
	stop()
	_ = q.Close() // fails (crashed); must return, and wake every appender
	st := q.Stats()
	gs.runs++
	gs.blocked += st.Blocked
	gs.dropped += st.DroppedOldest
	appenders.Wait()
	reader.Wait()
	if c.fail != "" {
		return c.fail
	}

	fs2 := newFaultFS(rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())), 0, fsys.image())
	cfg.FS, cfg.Manual = fs2, true
	q2, rec, err := Open(cfg)
	if err != nil {
		return "open after crash failed: " + err.Error()
	}
	defer func() {
		if msg != "" {
			msg += fmt.Sprintf(" (%d appenders, %d records; recovery: %s)", writers, total, rec)
		}
	}()
	if rec.AckLost {
		return "ack file unreadable after the crash"
	}
	after := newStream(g)
	for {
		r, err := q2.Next(canceled)
		if err != nil {
			break
		}
		id, msg := after.add(r)
		if msg != "" {
			return "after the crash: " + msg
		}
		if c.ckptDone && !c.ckptPos.Less(r.Pos) {
			return fmt.Sprintf("record %s at %s re-sent though the checkpoint %s covers it", id, r.Pos, c.ckptPos)
		}
		q2.Ack(r.Seq)
	}
	gs.readAgain += int64(len(after.seen))
	if rec.TornTails > 0 {
		gs.torn++
	}
	if st.DroppedOldest > 0 {
		// Which records DropOldest deleted is not known here: they are
		// not owed, so only the other properties are checked.
		return goOnAfterRecovery(q2, cfg)
	}
	for w, res := range g.results {
		for i, err := range res {
			id := groupID(w, i)
			if err == nil {
				gs.durable++
			}
			if full == DropOldest && c.st.seen[id] && !c.indexed[id] {
				// Read, not yet acknowledged: DropOldest may delete
				// its segment (uncounted, the reader has the record).
				continue
			}
			if err == nil && !c.indexed[id] && !after.seen[id] {
				return fmt.Sprintf("durable record %s lost", id)
			}
		}
	}
	return goOnAfterRecovery(q2, cfg)
}

// TestCrashConsistencyGroupCommit is TestCrashConsistency on the committer
// path: 2 to 8 appenders append concurrently under SyncBatch (group
// commit by the committer goroutine) while a consumer reads, acknowledges
// in random order and checkpoints (or the queue's goroutine does, every
// millisecond), and the Block policy is often at its bound. At a random
// file operation the disk crashes (model: faultFS). After restart: every
// Append that returned nil is delivered (acknowledged before the crash, or
// read again after it), each reader sees each record at most once and
// every appender's records in its order, nothing read differs from a
// record passed to Append (no torn record), nothing a persisted
// checkpoint covers comes back, and Open never fails. The interleaving
// depends on the scheduler, so a seed replays the workload and the crash
// point, not the exact schedule: replay a failing seed with -count.
// PIPELOG_CRASH_SEED=<n> replays one seed; PIPELOG_CRASH_RUNS=<n> sets the
// runs per policy (default 1000, 300 under -race or -short).
func TestCrashConsistencyGroupCommit(t *testing.T) {
	policies := []struct {
		name string
		full FullPolicy
	}{{"block", Block}, {"dropnewest", DropNewest}, {"dropoldest", DropOldest}}
	runs := 1000 // per policy
	if testing.Short() || raceEnabled {
		runs = 300
	}
	base, runs := crashSeeds(t, runs)
	for _, p := range policies {
		t.Run(p.name, func(t *testing.T) {
			var gs groupStats
			for i := range runs {
				seed := base + uint64(i)
				if msg := runGroupCrash(seed, p.full, &gs); msg != "" {
					t.Fatalf("seed %d (PIPELOG_CRASH_SEED=%d go test -count=20 -run 'TestCrashConsistencyGroupCommit/%s$' ./internal/diskqueue): %s", seed, seed, p.name, msg)
				}
			}
			t.Logf("%d runs, %d crashed while appending; %d Appends acknowledged as durable checked, %d records read again after restart; %d torn tails; %d Appends blocked, %d records dropped oldest",
				gs.runs, gs.midRun, gs.durable, gs.readAgain, gs.torn, gs.blocked, gs.dropped)
		})
	}
}
