package pipelog

import (
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/pipelog/pipelog/internal/encode"
)

// idSource mints event.id values: 16 random bytes drawn once per Logger and
// a counter, 32 hex digits. Unique without a syscall per event, and equal
// IDs only for the same event, which is what makes event.id a safe
// Elasticsearch _id for retries.
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

// next formats the next ID into buf and returns it as a string that aliases
// buf: valid while buf is, which is the length of one Emit.
func (s *idSource) next(buf *[32]byte) string {
	var raw [16]byte
	copy(raw[:8], s.prefix[:])
	n := s.n.Add(1)
	for i := 15; i >= 8; i-- {
		raw[i] = byte(n)
		n >>= 8
	}
	hex.Encode(buf[:], raw[:])
	return unsafe.String(&buf[0], len(buf))
}

// frames caches program counter → caller, so a caller costs one
// runtime.Callers and a map lookup after the first time a call site logs.
// The map is copied on write: call sites are few and fixed, lookups are
// lock-free and, unlike a sync.Map keyed by uintptr, do not allocate.
var (
	frames   atomic.Pointer[map[uintptr]encode.Caller]
	framesMu sync.Mutex
)

// callerAt returns the caller skip frames above the function calling it.
func callerAt(skip int) encode.Caller {
	var pcs [1]uintptr
	if runtime.Callers(skip+2, pcs[:]) < 1 { // 0 is Callers, 1 is callerAt
		return encode.Caller{}
	}
	return callerForPC(pcs[0])
}

// callerForPC resolves a program counter from runtime.Callers (or slog's
// Record.PC) to a caller, through the cache.
func callerForPC(pc uintptr) encode.Caller {
	if m := frames.Load(); m != nil {
		if c, ok := (*m)[pc]; ok {
			return c
		}
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	c := encode.Caller{File: f.File, Line: f.Line, Function: f.Function}
	framesMu.Lock()
	defer framesMu.Unlock()
	next := map[uintptr]encode.Caller{pc: c}
	if m := frames.Load(); m != nil {
		if len(*m) >= 1<<16 { // a program with this many call sites: stop caching
			return c
		}
		for k, v := range *m {
			next[k] = v
		}
	}
	frames.Store(&next)
	return c
}

// goroutineID reads the current goroutine's ID from the first line of its
// stack ("goroutine 42 [running]:"), the only way the runtime exposes it.
func goroutineID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) <= len(prefix) {
		return 0
	}
	b = b[len(prefix):]
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseInt(string(b[:i]), 10, 64)
	return id
}
