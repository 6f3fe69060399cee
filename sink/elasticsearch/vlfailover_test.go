package elasticsearch

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// victoriaLogsBin finds the binary .ci/victorialogs.sh installs; without it
// the test skips (fails under CI=true).
func victoriaLogsBin(t *testing.T) string {
	if p := os.Getenv("PIPELOG_VICTORIALOGS_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("victoria-logs"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "victoria-logs")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("victoria-logs not found but CI=true: .ci/victorialogs.sh installs it")
	}
	t.Skip("victoria-logs not found (set PIPELOG_VICTORIALOGS_BIN, or run .ci/victorialogs.sh once to install it)")
	return ""
}

type vlInstance struct {
	bin, addr, dir string
	cmd            *exec.Cmd
}

func (v *vlInstance) start(t *testing.T) {
	v.cmd = exec.Command(v.bin, "-httpListenAddr="+v.addr, "-storageDataPath="+v.dir,
		"-retentionPeriod=100y", "-futureRetention=1y", "-loggerLevel=ERROR")
	v.cmd.Stderr = os.Stderr
	require.NoError(t, v.cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get("http://" + v.addr + "/health"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("victoria-logs on %s did not come up", v.addr)
}

// stop ends the instance with SIGTERM (it flushes what it acknowledged;
// a SIGKILL loses VictoriaLogs' own in-memory buffer, whatever the client).
func (v *vlInstance) stop() {
	if v.cmd != nil && v.cmd.Process != nil {
		_ = v.cmd.Process.Signal(syscall.SIGTERM)
		_ = v.cmd.Wait()
		v.cmd = nil
	}
}

// vlIDs returns how many times each event.id of run is stored.
func vlIDs(t *testing.T, addr, run string, into map[string]int) int {
	form := url.Values{"query": {`labels.run:"` + run + `" | fields event.id`}}
	res, err := http.PostForm("http://"+addr+"/select/logsql/query", form)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	sc := bufio.NewScanner(res.Body)
	n := 0
	for sc.Scan() {
		var row map[string]string
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
		into[row["event.id"]]++
		n++
	}
	require.NoError(t, sc.Err())
	return n
}

// TestElasticsearchFailoverVictoriaLogs: three VictoriaLogs instances in
// Addresses, the second stopped mid-stream and restarted later. VictoriaLogs
// does not deduplicate by _id, so "exactly once" is what the three store
// together: every event at least once (asserted), and how many twice (a
// request cut by the stop, re-sent to another node; measured and bounded
// by the failed requests).
func TestElasticsearchFailoverVictoriaLogs(t *testing.T) {
	bin := victoriaLogsBin(t)
	if testing.Short() {
		t.Skip("starts three VictoriaLogs processes")
	}
	vls := make([]*vlInstance, 3)
	var addrs []string
	for i := range vls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		vls[i] = &vlInstance{bin: bin, addr: addr, dir: t.TempDir()}
		vls[i].start(t)
		defer vls[i].stop()
		addrs = append(addrs, "http://"+addr)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	run := "vlfo" + hex.EncodeToString(rnd[:])
	dl, el := &memSink{}, &errLog{}
	s, err := New(Config{
		Addresses: addrs, BulkPath: "/insert/elasticsearch/_bulk",
		BulkQuery:  url.Values{"_time_field": {"@timestamp"}, "_msg_field": {"message"}},
		DeadLetter: dl, OnError: el.add, BlockWhenFull: true, Workers: 4, FlushEvents: 500,
		FlushInterval: 50 * time.Millisecond, RetryBackoffMin: 10 * time.Millisecond, RetryBackoffMax: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	const phase = 10000
	now := time.Now().UTC()
	write := func(from int) {
		for i := from; i < from+phase; i++ {
			require.NoError(t, s.Write(fmt.Appendf(nil, `{"@timestamp":%q,"message":"m %d","event":{"id":"%s-%06d"},"labels":{"run":%q}}`,
				now.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano), i, run, i, run)))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	write(0)
	require.NoError(t, s.Flush(ctx))
	e0 := s.Stats().RequestErrors
	stopped := make(chan struct{})
	go func() { time.Sleep(20 * time.Millisecond); vls[1].stop(); close(stopped) }()
	write(phase)
	require.NoError(t, s.Flush(ctx))
	<-stopped
	e1 := s.Stats().RequestErrors
	vls[1].start(t)
	write(2 * phase)
	require.NoError(t, s.Flush(ctx))
	st := s.Stats()
	require.NoError(t, s.Close(ctx))
	assert.Zero(t, st.DeadLettered, el.joined())

	// Rows become visible about a second after the acknowledgement.
	var ids map[string]int
	per := make([]int, 3)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ids = map[string]int{}
		for i, v := range vls {
			per[i] = vlIDs(t, v.addr, run, ids)
		}
		if len(ids) >= 3*phase || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	twice := 0
	for _, n := range ids {
		if n > 1 {
			twice += n - 1
		}
	}
	t.Logf("VictoriaLogs ×3, #2 stopped (SIGTERM) during phase 2 and restarted: %d distinct of %d stored, %d stored twice, per instance %v; %d failed requests around the stop; %s",
		len(ids), per[0]+per[1]+per[2], twice, per, e1-e0, st)
	assert.Equal(t, 3*phase, len(ids), "events lost")
	assert.LessOrEqual(t, twice, int(e1-e0)*500, "more duplicates than the cut requests held")
	assert.Positive(t, per[0])
	assert.Positive(t, per[2])
	_ = strings.TrimSpace
}
