// Package fuzzval builds hostile Go values from a fuzzer's bytes, for the
// fuzz tests of the encoder and the adapters: nested maps with hostile
// keys, slices, any, times in odd zones, addresses, MarshalJSON and
// MarshalText output of the fuzzer's choosing, methods that panic, and
// error chains with typed nils, cycles through Unwrap and errors.Join
// trees. Only tests import it.
package fuzzval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"
)

// Builder reads choices from data; when data runs out every choice is 0.
type Builder struct {
	data    []byte
	strs    []string
	budget  int // values still to build, so that a value stays small
	counter int
}

// New returns a Builder over data, drawing strings from strs (and slices
// of them, and a few hostile ones of its own).
func New(data []byte, strs ...string) *Builder {
	return &Builder{data: data, strs: append(strs, "", ".", "..", "a.b", "\xff", "\xfe", "<a>&", "\u2028", "labels", "message"), budget: 200}
}

func (b *Builder) byte() byte {
	if len(b.data) == 0 {
		return 0
	}
	c := b.data[0]
	b.data = b.data[1:]
	return c
}

func (b *Builder) uint64() uint64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = b.byte()
	}
	return binary.LittleEndian.Uint64(buf[:])
}

// Intn returns a choice in [0, n).
func (b *Builder) Intn(n int) int { return int(b.byte()) % n }

// Uint64 returns 8 bytes' worth of choice.
func (b *Builder) Uint64() uint64 { return b.uint64() }

// String returns one of the strings, or a slice of one.
func (b *Builder) String() string {
	s := b.strs[int(b.byte())%len(b.strs)]
	if b.byte()%4 == 0 && len(s) > 0 {
		i := int(b.byte()) % len(s)
		j := i + int(b.byte())%(len(s)-i+1)
		s = s[i:j]
	}
	return s
}

// RawJSON is a value whose MarshalJSON returns its bytes, valid or not.
type RawJSON []byte

func (r RawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// Text is a value whose MarshalText returns its text, or an error.
type Text struct {
	S   string
	Err bool
}

func (t Text) MarshalText() ([]byte, error) {
	if t.Err {
		return nil, errors.New("text failed: " + t.S)
	}
	return []byte(t.S), nil
}

// Panicky panics in String.
type Panicky struct{ N int }

func (p Panicky) String() string { panic(fmt.Sprintf("Panicky %d", p.N)) }

// NilErr is an error type whose methods read fields: a nil *NilErr panics
// in each.
type NilErr struct {
	Msg  string
	Next error
}

func (e *NilErr) Error() string      { return e.Msg + ": " + e.Next.Error() }
func (e *NilErr) Unwrap() error      { return e.Next }
func (e *NilErr) StackTrace() string { return e.Msg }
func (e *NilErr) String() string     { return e.Msg } // a nil *NilErr is also a panicking fmt.Stringer

// PanicErr is an error that panics in every method (Error, Unwrap,
// StackTrace).
type PanicErr struct{}

func (PanicErr) Error() string      { panic("PanicErr.Error") }
func (PanicErr) Unwrap() error      { panic("PanicErr.Unwrap") }
func (PanicErr) StackTrace() string { panic("PanicErr.StackTrace") }

// PanicJSON panics in MarshalJSON, PanicText in MarshalText.
type (
	PanicJSON struct{}
	PanicText struct{}
)

func (PanicJSON) MarshalJSON() ([]byte, error) { panic("PanicJSON.MarshalJSON") }
func (PanicText) MarshalText() ([]byte, error) { panic("PanicText.MarshalText") }

// HostileErrors are the error values tests throw at every entry point, by
// name: typed nils and errors whose every method panics, bare, wrapped
// with %w and joined. Names with "nil" hold a typed nil, whose Error must
// come out "<nil>".
func HostileErrors() map[string]error {
	var typedNil *NilErr
	return map[string]error{
		"typed nil":      typedNil,
		"wrapped nil":    fmt.Errorf("load: %w", error(typedNil)),
		"joined nil":     errors.Join(errors.New("first"), typedNil),
		"panics":         PanicErr{},
		"wrapped panics": fmt.Errorf("load: %w", PanicErr{}),
		"joined panics":  errors.Join(PanicErr{}, errors.New("second")),
	}
}

// Loop is an error whose Unwrap returns itself.
type Loop struct{ Msg string }

func (e *Loop) Error() string { return e.Msg }
func (e *Loop) Unwrap() error { return e }

// Node is a struct with a pointer to its own type, for deep and cyclic
// values.
type Node struct {
	Name string `json:"name"`
	Next *Node  `json:"next,omitempty"`
	Val  any    `json:"val"`
}

// Value builds one value, at most depth levels deep.
func (b *Builder) Value(depth int) any {
	b.budget--
	if b.budget < 0 || depth <= 0 {
		return b.String()
	}
	switch b.byte() % 20 {
	case 0:
		return b.String()
	case 1:
		return int64(b.uint64())
	case 2:
		return math.Float64frombits(b.uint64())
	case 3:
		zone := time.FixedZone("Z", int(int16(b.uint64()))*60)
		return time.Unix(int64(b.uint64()%(1<<36))-1<<35, int64(b.uint64()%1e9)).In(zone)
	case 4:
		m := map[string]any{}
		for n := int(b.byte() % 6); n > 0; n-- {
			m[b.String()] = b.Value(depth - 1)
		}
		return m
	case 5:
		s := make([]any, int(b.byte()%6))
		for i := range s {
			s[i] = b.Value(depth - 1)
		}
		return s
	case 6:
		return RawJSON(b.String())
	case 7:
		return Text{S: b.String(), Err: b.byte()%3 == 0}
	case 8:
		return b.Error(depth - 1)
	case 9:
		return nil
	case 10:
		ip := make(net.IP, []int{0, 4, 16, 3}[b.byte()%4])
		for i := range ip {
			ip[i] = b.byte()
		}
		return ip
	case 11:
		return netip.AddrFrom4([4]byte{b.byte(), b.byte(), b.byte(), b.byte()})
	case 12:
		return Node{Name: b.String(), Val: b.Value(depth - 1)}
	case 13:
		n := &Node{Name: b.String()}
		if b.byte()%2 == 0 {
			n.Next = n // a cycle
		} else {
			for i := int(b.byte()); i > 0; i-- {
				n = &Node{Name: "n", Next: n}
			}
		}
		return n
	case 14:
		v := b.Value(depth - 1)
		return &v
	case 15:
		return time.Duration(b.uint64())
	case 16:
		return Panicky{N: int(b.byte())}
	case 17:
		return map[int]string{int(b.byte()): b.String(), -int(b.byte()): b.String()}
	case 18:
		return []byte(b.String())
	case 19:
		return map[Text]any{{S: b.String()}: b.Value(depth - 1), {S: b.String(), Err: true}: 1}
	}
	return nil
}

// Error builds an error chain.
func (b *Builder) Error(depth int) error {
	if depth <= 0 {
		return errors.New(b.String())
	}
	switch b.byte() % 8 {
	case 0:
		return errors.New(b.String())
	case 1:
		var nilErr *NilErr
		return nilErr // a typed nil
	case 2:
		return fmt.Errorf("%s: %w", b.String(), b.Error(depth-1))
	case 3:
		errs := make([]error, int(b.byte()%4))
		for i := range errs {
			errs[i] = b.Error(depth - 1)
		}
		return errors.Join(errs...)
	case 4:
		return &Loop{Msg: b.String()}
	case 5:
		return &NilErr{Msg: b.String(), Next: b.Error(depth - 1)}
	case 6:
		return fmt.Errorf("%w and %w", b.Error(depth-1), b.Error(depth-1))
	case 7:
		var nilErr *NilErr
		return fmt.Errorf("wrapped: %w", error(nilErr))
	}
	return nil
}
