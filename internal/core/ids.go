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
	prefix [8]byte
	n      atomic.Uint64
}

func (s *idSource) init() {
	_, _ = rand.Read(s.prefix[:])
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	s.n.Store(uint64(seed[0])<<56 | uint64(seed[1])<<48 | uint64(seed[2])<<40 | uint64(seed[3])<<32)
}

// next formats the next ID into buf.
func (s *idSource) next(buf *[32]byte) {
	var raw [16]byte
	copy(raw[:8], s.prefix[:])
	n := s.n.Add(1)
	for i := 15; i >= 8; i-- {
		raw[i] = byte(n)
		n >>= 8
	}
	hex.Encode(buf[:], raw[:])
}
