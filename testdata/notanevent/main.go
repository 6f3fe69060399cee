// Command notanevent must not compile: its event type has a method named
// EventBase but does not embed event.Base, and pipelog.Emit accepts only
// types that do. TestOnlyEventsCompile builds it and checks the error.
package main

import (
	"context"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
)

type NotAnEvent struct {
	base event.Base
	N    int
}

func (n *NotAnEvent) EventBase() *event.Base { return &n.base }

func main() {
	pipelog.Emit(context.Background(), nil, NotAnEvent{N: 1})
}
