// Package ecs states what pipelog's lines are in Elastic Common Schema
// terms: the ECS version every line declares (Version), the type of every
// ECS field (FieldType), and Check, which reports what Emit would refuse in
// an event type before the first event is written.
//
// The encoder itself is internal to the module (internal/encode); this
// package is its public face. It imports only package event and the
// encoder.
package ecs

import (
	"reflect"

	"github.com/pipelog/pipelog/internal/encode"
)

// Version is the ECS version of the field table, written as ecs.version on
// every line.
const Version = encode.Version

// ErrInvalidEvent wraps every error about an event type's definition.
var ErrInvalidEvent = encode.ErrInvalidEvent

// Check reports what is wrong with the event type E, or nil. Emit reports
// the same error through the Logger's error hook the first time it meets E;
// calling Check in a test or at start-up catches it earlier.
func Check[E any]() error { return encode.Check(reflect.TypeFor[E]()) }

// FieldType returns the ECS type of the field name ("keyword", "long",
// "date", "ip", "object", …) and whether name is an ECS field at all.
func FieldType(name string) (typ string, ok bool) { return encode.FieldType(name) }
