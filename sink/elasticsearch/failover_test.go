package elasticsearch

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
)

// node is one coordinating node of a fake cluster: a proxy in front of the
// shared store (so _id dedup is cluster-wide, as in Elasticsearch), which
// can be killed and restarted on its address.
type node struct {
	addr     string
	target   *url.URL
	requests atomic.Int64
	srv      *http.Server
}

func (n *node) start(t *testing.T) {
	l, err := net.Listen("tcp", n.addr)
	require.NoError(t, err)
	n.addr = l.Addr().String()
	proxy := httputil.NewSingleHostReverseProxy(n.target)
	n.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.requests.Add(1)
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = n.srv.Serve(l) }()
}

func (n *node) kill() { _ = n.srv.Close() } // listener and every connection, mid-request too

// TestElasticsearchFailover: three nodes in Addresses, one killed while
// events stream and restarted later: every event is indexed exactly once
// (re-sends of requests cut by the kill answer 409), and while the node is
// down the load goes to the two live ones.
func TestElasticsearchFailover(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	target, err := url.Parse(fake.URL)
	require.NoError(t, err)
	nodes := make([]*node, 3)
	var addrs []string
	for i := range nodes {
		nodes[i] = &node{addr: "127.0.0.1:0", target: target}
		nodes[i].start(t)
		defer nodes[i].kill()
		addrs = append(addrs, "http://"+nodes[i].addr)
	}
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig(addrs[0], dl, el)
	cfg.Addresses = addrs
	cfg.Workers = 4
	cfg.FlushEvents = 100
	s, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const phase = 5000
	var ids []string
	write := func(from int) {
		for i := from; i < from+phase; i++ {
			require.NoError(t, s.Write(testDoc("fo", i)))
			ids = append(ids, testID("fo", i))
		}
	}
	counts := func() [3]int64 {
		return [3]int64{nodes[0].requests.Load(), nodes[1].requests.Load(), nodes[2].requests.Load()}
	}
	write(0)
	require.NoError(t, s.Flush(ctx))
	c0 := counts()
	errs0 := s.Stats().RequestErrors
	go func() { time.Sleep(2 * time.Millisecond); nodes[1].kill() }() // mid-stream
	write(phase)
	require.NoError(t, s.Flush(ctx))
	c1 := counts()
	errs1 := s.Stats().RequestErrors
	nodes[1].start(t) // restarted on its address
	write(2 * phase)
	require.NoError(t, s.Flush(ctx))
	require.NoError(t, s.Close(ctx))
	c2 := counts()

	indexed, dead := reconcile(t, fake, dl, ids)
	assert.Equal(t, len(ids), indexed, "every event indexed")
	assert.Zero(t, dead)
	t.Logf("requests per node: all up %v; node 2 killed %v (%d failed requests); node 2 restarted %v; duplicates answered 409: %d",
		c0, [3]int64{c1[0] - c0[0], c1[1] - c0[1], c1[2] - c0[2]}, errs1-errs0,
		[3]int64{c2[0] - c1[0], c2[1] - c1[1], c2[2] - c1[2]}, s.Stats().Duplicates)
	for _, i := range []int{0, 2} {
		assert.Positive(t, c1[i]-c0[i], "live node %d took load while node 2 was down", i+1)
	}
	// The pool sets a dead node aside: the kill costs a few failed
	// requests, not one per batch.
	assert.LessOrEqual(t, errs1-errs0, int64(10), "requests sent to the dead node")
}
