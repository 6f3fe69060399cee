package core

import (
	"testing"
	"unsafe"
)

// TestSampleSlotSize: a slot fills two cache lines' worth exactly, so that
// slots of two types never share a line (the padding is sized by hand).
func TestSampleSlotSize(t *testing.T) {
	if got := unsafe.Sizeof(sampleSlot{}); got != 128 {
		t.Fatalf("sampleSlot is %d bytes, want 128: adjust its padding", got)
	}
}
