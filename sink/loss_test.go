package sink

import (
	"context"
	"testing"
)

type lossy struct {
	multiTestSink
	l Losses
}

func (s *lossy) Losses() Losses { return s.l }

func TestLossesAddUpThroughMultiAndMinLevel(t *testing.T) {
	a := &lossy{l: Losses{Dropped: 1, DeadLettered: 2, DeadLetter: "a.ndjson"}}
	b := &lossy{l: Losses{Undelivered: 4, DeadLetter: "b.ndjson"}}
	m := Multi(MinLevel(a, 8), &multiTestSink{}, b)
	got := LossesOf(m)
	want := Losses{Dropped: 1, DeadLettered: 2, Undelivered: 4, DeadLetter: "a.ndjson"}
	if got != want || got.Total() != 7 {
		t.Fatalf("Losses = %+v (total %d), want %+v", got, got.Total(), want)
	}
	if l := LossesOf(&multiTestSink{}); l != (Losses{}) {
		t.Fatalf("a sink that does not count: %+v", l)
	}
	_ = m.Close(context.Background())
}
