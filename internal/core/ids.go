package core

import (
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
)

// idSource mints event.id values: 8 random bytes drawn once per Core and a
// counter (with a random start), as 32 hex digits. Unique without a syscall
// per event, and equal IDs only for the same event, which is what makes
// event.id a safe Elasticsearch _id for retries.
type idSource struct {
	prefix [16]byte // the random half, hex-encoded once
	n      atomic.Uint64
}

func (s *idSource) init() {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	hex.Encode(s.prefix[:], raw[:])
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	s.n.Store(uint64(seed[0])<<56 | uint64(seed[1])<<48 | uint64(seed[2])<<40 | uint64(seed[3])<<32)
}

// hexPairs[b] is the two hex digits of b.
var hexPairs = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = [2]byte{digits[i>>4], digits[i&15]}
	}
	return t
}()

// next formats the next ID into buf: the prefix, then the counter's eight
// bytes, most significant first.
func (s *idSource) next(buf *[32]byte) {
	copy(buf[:16], s.prefix[:])
	n := s.n.Add(1)
	for i := 30; i >= 16; i -= 2 {
		p := hexPairs[byte(n)]
		buf[i], buf[i+1] = p[0], p[1]
		n >>= 8
	}
}
