package diskqueue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// canceled makes Next return at once when nothing is readable.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// crashRun is one random workload on a fault-injecting FS, crashed at a
// random point, then recovered; it returns a description of the first
// violated property ("" when all hold).
type crashRun struct {
	rng       *rand.Rand
	appended  map[string][]byte // id → payload, every Append that returned nil
	durable   map[string]bool   // ids acknowledged as durable before the crash
	index     map[string][]byte // what the "cluster" stores, by id
	sends     map[string]int
	ckptPos   Pos // last position a Checkpoint that returned nil persisted
	ckptValid bool
}

func payload(rng *rand.Rand, id string) []byte {
	b := []byte(id + "|")
	for range rng.IntN(200) {
		b = append(b, byte('a'+rng.IntN(26)))
	}
	return b
}

func idOf(p []byte) string {
	for i, c := range p {
		if c == '|' {
			return string(p[:i])
		}
	}
	return ""
}

func (c *crashRun) deliver(r Record, after bool) string {
	id := idOf(r.Data)
	want, ok := c.appended[id]
	if !ok && !after {
		return fmt.Sprintf("read a record never appended: %q", r.Data)
	}
	if ok && string(want) != string(r.Data) {
		return fmt.Sprintf("record %s read back different: %q, want %q", id, r.Data, want)
	}
	if after && c.ckptValid && !c.ckptPos.Less(r.Pos) {
		return fmt.Sprintf("record %s at %s re-sent though the checkpoint %s covers it", id, r.Pos, c.ckptPos)
	}
	c.sends[id]++
	if _, dup := c.index[id]; !dup { // a second create of the same _id is a 409
		c.index[id] = append([]byte(nil), r.Data...)
	}
	return ""
}

func runCrash(seed uint64, policy SyncPolicy, full FullPolicy) string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &crashRun{rng: rng, appended: map[string][]byte{}, durable: map[string]bool{}, index: map[string][]byte{}, sends: map[string]int{}}
	fsys := newFaultFS(rng, 1+rng.IntN(400), nil)
	cfg := Config{Dir: "q", FS: fsys, Sync: policy, Full: full, Manual: true, SegmentBytes: int64(256 + rng.IntN(2048)), MaxBytes: 1 << 20}
	if full != Block {
		cfg.MaxBytes = int64(2048 + rng.IntN(4096))
	}
	q, _, err := Open(cfg)
	if err != nil {
		return "first open: " + err.Error()
	}
	var unacked []uint64
	var sinceSync []string
	n := 0
	for step := 0; step < 300 && !fsys.crashed; step++ {
		switch k := rng.IntN(10); {
		case k < 4:
			for range 1 + rng.IntN(4) {
				id := strconv.Itoa(n)
				n++
				p := payload(rng, id)
				if q.Append(p) == nil {
					c.appended[id] = p
					if policy == SyncBatch {
						c.durable[id] = true
					} else {
						sinceSync = append(sinceSync, id)
					}
				}
			}
		case k < 5:
			if q.Sync() == nil {
				for _, id := range sinceSync {
					c.durable[id] = true
				}
				sinceSync = sinceSync[:0]
			}
		case k < 6:
			_ = q.WriteOut()
		case k < 8:
			for range 1 + rng.IntN(6) {
				// One record (Next) or several (ReadBatch).
				recs, err := q.ReadBatch(canceled, 1+rng.IntN(2)*rng.IntN(8), nil)
				if err != nil {
					break
				}
				for _, r := range recs {
					if msg := c.deliver(r, false); msg != "" {
						return msg
					}
					unacked = append(unacked, r.Seq)
				}
			}
		case k < 9:
			rng.Shuffle(len(unacked), func(i, j int) { unacked[i], unacked[j] = unacked[j], unacked[i] })
			m := rng.IntN(len(unacked) + 1)
			for _, s := range unacked[:m] {
				q.Ack(s)
			}
			unacked = unacked[m:]
		default:
			at := q.Acked()
			if q.Checkpoint() == nil {
				c.ckptPos, c.ckptValid = at, true
			}
		}
	}
	fsys.crash()
	// Records dropped by DropOldest are not owed; forget them.
	if full == DropOldest && q.Stats().DroppedOldest > 0 {
		for id := range c.durable {
			if _, ok := c.index[id]; !ok {
				delete(c.durable, id)
			}
		}
	}

	// Restart on what the disk kept.
	fs2 := newFaultFS(rng, 0, fsys.image())
	cfg.FS = fs2
	q2, rec, err := Open(cfg)
	if err != nil {
		return "open after crash failed: " + err.Error()
	}
	for {
		r, err := q2.Next(canceled)
		if err != nil {
			break
		}
		if msg := c.deliver(r, true); msg != "" {
			return msg + " (recovery: " + rec.String() + ")"
		}
		q2.Ack(r.Seq)
	}
	for id := range c.durable {
		if string(c.index[id]) != string(c.appended[id]) {
			return fmt.Sprintf("durable record %s lost (recovery: %s)", id, rec)
		}
	}
	return goOnAfterRecovery(q2, cfg)
}

// goOnAfterRecovery checks that the queue recovered after a crash (q2,
// drained and acknowledged, Manual) goes on: a new record after recovery,
// then a clean restart re-sends nothing acknowledged.
func goOnAfterRecovery(q2 *Queue, cfg Config) string {
	if err := q2.Checkpoint(); err != nil {
		return "checkpoint after recovery: " + err.Error()
	}
	if err := q2.Append([]byte("after|x")); err != nil {
		return "append after recovery: " + err.Error()
	}
	if err := q2.WriteOut(); err != nil {
		return "write out after recovery: " + err.Error()
	}
	r, err := q2.Next(canceled)
	if err != nil || string(r.Data) != "after|x" {
		return fmt.Sprintf("read after recovery: %q %v", r.Data, err)
	}
	q2.Ack(r.Seq)
	if err := q2.Close(); err != nil {
		return "close: " + err.Error()
	}
	q3, rec3, err := Open(cfg)
	if err != nil {
		return "third open: " + err.Error()
	}
	defer q3.Close()
	if rec3.Records != 0 || rec3.TornTails != 0 || len(rec3.Corrupt) != 0 {
		return "clean restart found work: " + rec3.String()
	}
	return ""
}

// crashSeeds returns the first seed and the number of runs: runs by
// default, PIPELOG_CRASH_RUNS=<n> if set; PIPELOG_CRASH_SEED=<n> replays
// that one seed.
func crashSeeds(t *testing.T, runs int) (uint64, int) {
	if s := os.Getenv("PIPELOG_CRASH_RUNS"); s != "" {
		v, err := strconv.Atoi(s)
		require.NoError(t, err)
		runs = v
	}
	base := uint64(time.Now().UnixNano())
	if s := os.Getenv("PIPELOG_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		base, runs = v, 1
	}
	return base, runs
}

// TestCrashConsistency is the crash-consistency property: at a random
// crash point the file layer drops what was not fsynced, tears the last
// surviving write and reorders the rest; after restart every record
// acknowledged as durable is delivered, exactly once in the index (by id,
// as Elasticsearch's create does), nothing delivered differs from what was
// appended, nothing a persisted checkpoint covers is sent again, and Open
// never fails. PIPELOG_CRASH_SEED=<n> replays one seed; PIPELOG_CRASH_RUNS=<n>
// sets the runs per policy (default 1000).
func TestCrashConsistency(t *testing.T) {
	policies := []struct {
		name string
		sync SyncPolicy
		full FullPolicy
	}{
		{"batch", SyncBatch, Block},
		{"interval", SyncInterval, Block},
		{"none", SyncNone, Block},
		{"batch-dropnewest", SyncBatch, DropNewest},
		{"batch-dropoldest", SyncBatch, DropOldest},
	}
	runs := 1000 // per policy: 5000 crash points, a few seconds
	if testing.Short() || raceEnabled {
		runs = 100
	}
	base, runs := crashSeeds(t, runs)
	for _, p := range policies {
		t.Run(p.name, func(t *testing.T) {
			for i := range runs {
				seed := base + uint64(i)
				if msg := runCrash(seed, p.sync, p.full); msg != "" {
					t.Fatalf("seed %d (PIPELOG_CRASH_SEED=%d go test -run 'TestCrashConsistency/%s$' ./internal/diskqueue): %s", seed, seed, p.name, msg)
				}
			}
		})
	}
}
