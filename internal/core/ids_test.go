package core

import (
	"encoding/hex"
	"testing"
)

// TestIDsAreHexOfPrefixAndCounter: an ID is the random prefix and the
// counter, big-endian, as lowercase hex, and consecutive IDs differ by one.
func TestIDsAreHexOfPrefixAndCounter(t *testing.T) {
	var s idSource
	s.init()
	s.n.Store(0x00ff_1234_abcd_fffe)
	var a, b [32]byte
	s.next(&a)
	s.next(&b)
	if string(a[:16]) != string(s.prefix[:]) || string(b[:16]) != string(s.prefix[:]) {
		t.Fatalf("prefix: %s %s, want %s", a[:16], b[:16], s.prefix[:])
	}
	if got := string(a[16:]); got != "00ff1234abcdffff" {
		t.Errorf("first counter half %s", got)
	}
	if got := string(b[16:]); got != "00ff1234abce0000" {
		t.Errorf("second counter half %s (carry)", got)
	}
	if _, err := hex.DecodeString(string(a[:])); err != nil {
		t.Error(err)
	}
}
