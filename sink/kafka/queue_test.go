package kafka

import (
	"testing"
	"time"
)

// TestWaitRoomSleeps: a writer waiting for room in a full queue sleeps until
// a release; it used to wake itself (its own failed add released and closed
// the channel it was about to wait on) and spin, a core's worth of CPU, for
// as long as the queue stayed full.
func TestWaitRoomSleeps(t *testing.T) {
	var q queue
	q.init(Config{MaxQueueBytes: 1 << 20, MaxQueueEvents: 1, BlockWhenFull: true})
	if !q.tryAdd(10) {
		t.Fatal("a lone event must fit")
	}
	chAt := func() chan struct{} {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.spaceCh
	}
	done := make(chan error, 1)
	go func() { done <- q.waitRoom(10) }()
	for q.waiters.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	before := chAt()
	time.Sleep(50 * time.Millisecond)
	if chAt() != before {
		t.Fatal("the waiting writer woke itself: its room channel was replaced while nothing was released")
	}
	select {
	case err := <-done:
		t.Fatalf("waitRoom returned %v on a full queue", err)
	default:
	}
	q.release(10)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitRoom did not return after a release")
	}
}

// TestCorrelationHeaderAsLogctxReadsIt: the sink stamps X-Correlation-ID
// only with an ID logctx.Extract keeps on the consumer's side (it used to
// take any printable ASCII, which Extract then refused as malformed).
func TestCorrelationHeaderAsLogctxReadsIt(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{{"run-42", true}, {"a.b_c:d-E9", true}, {"order/42", false}, {"a@b", false}, {"x y", false}, {"", false}} {
		if got := validCorrelation([]byte(c.id)); got != c.want {
			t.Errorf("validCorrelation(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}
