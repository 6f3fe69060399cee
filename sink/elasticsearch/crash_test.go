package elasticsearch

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
)

// TestElasticsearchCrashLoss measures what an in-memory queue loses when the
// producer dies: a child process writes events as fast as it can, the test
// SIGKILLs it mid-stream and compares what the child had accepted with what
// reached the fake. The number is reported (it is the input for the
// disk-spill work), not asserted.
func TestElasticsearchCrashLoss(t *testing.T) {
	if addr := os.Getenv("PIPELOG_ES_CRASH_CHILD"); addr != "" {
		crashChild(addr)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	fake := esfake.New()
	defer fake.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestElasticsearchCrashLoss$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PIPELOG_ES_CRASH_CHILD="+fake.URL)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan int, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "accepted ")); err == nil {
				lines <- n
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for fake.Stats().Docs < 20000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	accepted := 0
	for n := range lines {
		accepted = max(accepted, n)
	}
	time.Sleep(100 * time.Millisecond) // let in-flight server handlers finish
	stored := fake.Stats().Docs
	require.Positive(t, stored)
	lost := accepted - stored
	t.Logf("SIGKILL mid-stream: child had accepted at least %d events, %d reached the server: at least %d lost (%.1f%%) with the in-memory queue",
		accepted, stored, max(lost, 0), 100*float64(max(lost, 0))/float64(max(accepted, 1)))
}

// crashChild writes events forever and prints, after each Write that
// returned nil, how many were accepted (every 100 events).
func crashChild(addr string) {
	s, err := New(Config{Addresses: []string{addr}, DeadLetter: &memSink{}, OnError: func(error) {}, BlockWhenFull: true})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if err := s.Write(testDoc("crash", i)); err != nil {
			_ = s.Close(context.Background())
			os.Exit(3)
		}
		if (i+1)%100 == 0 {
			fmt.Fprintf(w, "accepted %d\n", i+1)
			_ = w.Flush()
		}
	}
}
