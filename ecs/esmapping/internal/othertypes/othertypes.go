// Package othertypes holds an event type named like one of esmapping's
// tests, as another package of a program could: both write
// Pipelog.Started.
package othertypes

import "github.com/pipelog/pipelog/event"

// Started has the name of the test's Started, and another type for N.
type Started struct {
	event.Base
	N int `json:"n"`
}
