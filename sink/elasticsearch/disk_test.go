package elasticsearch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
)

// seqDoc is an event without event.id: the sink mints its _id, so a
// re-send under another _id would show as the same seq stored twice.
func seqDoc(w, i int) []byte {
	return fmt.Appendf(nil, `{"@timestamp":"2026-11-26T01:02:03.000000Z","log.level":"info","message":"m","labels":{"seq":"%d-%d"}}`, w, i)
}

const killWriters = 4

// killCap bounds each child writer's events, so the backlog a restart
// re-sends stays small under the race detector (10× slower).
var killCap = map[bool]int{false: 50000, true: 5000}[raceEnabled]

// diskChild writes seqDocs from killWriters goroutines into a sink with a
// disk queue until killed, printing "w i" once Write returned nil for
// event i of writer w (every 10th, and the events before it were too).
func diskChild(spec string) {
	addr, rest, _ := strings.Cut(spec, ",")
	dir, policy, _ := strings.Cut(rest, ",")
	cfg := Config{Addresses: []string{addr}, QueueDir: dir, DeadLetter: &memSink{}, OnError: func(error) {},
		FlushInterval: 20 * time.Millisecond, RetryBackoffMin: 5 * time.Millisecond, RetryBackoffMax: 50 * time.Millisecond}
	if policy == "interval" {
		cfg.DiskSync = DiskSyncInterval
	}
	s, err := New(cfg)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range killWriters {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == killCap {
					select {} // enough backlog; wait for the kill
				}
				if err := s.Write(seqDoc(w, i)); err != nil {
					fmt.Fprintln(os.Stderr, "write:", err)
					os.Exit(3)
				}
				if i%10 == 0 {
					mu.Lock()
					fmt.Fprintf(out, "%d %d\n", w, i)
					_ = out.Flush()
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// killRound runs a child on dir against addr, SIGKILLs it after a random
// time, and returns the highest acknowledged i per writer.
func killRound(t *testing.T, rng *rand.Rand, addr, dir, policy string) [killWriters]int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestElasticsearchDiskQueueSIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PIPELOG_ES_DISK_CHILD="+addr+","+dir+","+policy)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var hi [killWriters]int
	for i := range hi {
		hi[i] = -1
	}
	var mu sync.Mutex
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			var w, i int
			if _, err := fmt.Sscanf(sc.Text(), "%d %d", &w, &i); err == nil && w < killWriters {
				mu.Lock()
				hi[w] = max(hi[w], i)
				mu.Unlock()
				once.Do(func() { close(first) })
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child wrote nothing")
	}
	time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return hi
}

// seqCounts is how many times each labels.seq is stored in the fake.
func seqCounts(t *testing.T, fake *esfake.Server) map[string]int {
	counts := map[string]int{}
	for id := range fake.IDs() {
		doc, _ := fake.Doc(id)
		var d struct {
			Labels struct {
				Seq string `json:"seq"`
			} `json:"labels"`
		}
		require.NoError(t, json.Unmarshal(doc, &d))
		counts[d.Labels.Seq]++
	}
	return counts
}

// TestElasticsearchDiskQueueSIGKILL: a child process writes into a sink with
// a disk queue (DiskSyncBatch) and is SIGKILLed at a random moment, with
// the cluster down and with it up; a sink started on the same directory
// with the cluster up delivers every event whose Write had returned nil,
// none twice (the minted _ids are kept on disk). The interval policy's
// loss is measured the same way.
func TestElasticsearchDiskQueueSIGKILL(t *testing.T) {
	if spec := os.Getenv("PIPELOG_ES_DISK_CHILD"); spec != "" {
		diskChild(spec)
		return
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, tc := range []struct {
		name, policy string
		clusterUp    bool
	}{
		{"cluster down/batch", "batch", false},
		{"cluster up/batch", "batch", true},
		{"cluster down/interval", "interval", false},
		{"cluster up/interval", "interval", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := "http://" + l.Addr().String()
			var fake *esfake.Server
			if tc.clusterUp {
				fake = esfake.NewOn(l)
			} else {
				require.NoError(t, l.Close()) // connection refused
			}
			hi := killRound(t, rng, addr, dir, tc.policy)
			if fake == nil {
				l, err = net.Listen("tcp", strings.TrimPrefix(addr, "http://"))
				require.NoError(t, err)
				fake = esfake.NewOn(l)
			}
			defer fake.Close()
			before := fake.Stats().Docs

			el := &errLog{}
			s, err := New(Config{Addresses: []string{addr}, QueueDir: dir, DeadLetter: &memSink{}, OnError: el.add, FlushInterval: 20 * time.Millisecond})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			require.NoError(t, s.Flush(ctx))
			require.NoError(t, s.Close(ctx))

			counts := seqCounts(t, fake)
			accepted, lost, dups, holes := 0, 0, 0, 0
			for w := range killWriters {
				firstLost := -1
				for i := 0; i <= hi[w]; i++ {
					accepted++
					switch {
					case counts[fmt.Sprintf("%d-%d", w, i)] == 0:
						lost++
						if firstLost < 0 {
							firstLost = i
						}
					case firstLost >= 0:
						holes++ // delivered after a lost one
					}
				}
			}
			for _, n := range counts {
				if n > 1 {
					dups += n - 1
				}
			}
			st := s.Stats()
			t.Logf("%s: %d acknowledged by Write before the kill, %d in the index before restart, %d after (%d re-sent as 409 duplicates): %d lost, %d stored twice; recovery: %s",
				tc.name, accepted, before, len(counts), st.Duplicates, lost, dups, strings.TrimSpace(el.joined()))
			require.Positive(t, accepted)
			assert.Zero(t, dups, "events stored twice")
			assert.Zero(t, fake.Stats().Malformed)
			if tc.policy == "batch" {
				assert.Zero(t, lost, "events acknowledged by Write and lost")
			} else {
				// A process kill loses only what was not yet written (the
				// page cache survives it): the last WriteInterval (10ms)
				// of events, 4 MiB at most, so only a tail of each
				// writer's events.
				assert.LessOrEqual(t, lost, (4<<20)/len(seqDoc(0, 0)), "interval policy loss")
				assert.Zero(t, holes, "an event lost before one that was kept")
			}
			// A clean restart finds nothing to send.
			s2, err := New(Config{Addresses: []string{addr}, QueueDir: dir, DeadLetter: &memSink{}, OnError: func(error) {}})
			require.NoError(t, err)
			require.NoError(t, s2.Close(ctx))
			assert.Zero(t, s2.Stats().Requests, "a drained queue re-sent events")
		})
	}
}
