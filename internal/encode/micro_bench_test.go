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

// benchStrings are the dynamic strings of one BenchmarkEvent line.
var benchStrings = []string{"order rejected", "84ac3e08c132071463d681d500000001", "credit", "worker-3",
	"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "POST", "/v1/orders", "credit limit exceeded",
	"*errors.errorString", "acme", "ord-123456", "cust-42", "kafka"}

func BenchmarkAppendStrings(b *testing.B) {
	buf := make([]byte, 0, 4096)
	for range b.N {
		buf = buf[:0]
		for _, s := range benchStrings {
			buf = appendString(buf, s, 1<<20)
		}
	}
}
