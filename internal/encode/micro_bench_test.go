package encode

import (
	"errors"
	"testing"
	"time"
)

func BenchmarkAppendTimestamp(b *testing.B) {
	buf := make([]byte, 0, 64)
	now := time.Now()
	e := NewEncoder(Config{})
	for range b.N {
		buf = e.appendNow(buf[:0], now)
	}
}

func BenchmarkErrorTypeName(b *testing.B) {
	err := errors.New("x")
	for range b.N {
		_ = errorTypeName(err)
	}
}

func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 256)
	s := "credit limit exceeded for this customer order"
	for range b.N {
		buf = appendString(buf[:0], s, 1<<20)
	}
}
