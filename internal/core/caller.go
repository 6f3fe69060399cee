package core

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pipelog/pipelog/internal/encode"
)

// frames caches program counter → caller, so a caller costs one
// runtime.Callers and a map lookup after the first time a call site logs.
// The map is copied on write: call sites are few and fixed, lookups are
// lock-free and, unlike a sync.Map keyed by uintptr, do not allocate.
var (
	frames   atomic.Pointer[map[uintptr]encode.Caller]
	framesMu sync.Mutex
)

// CallerAt returns the caller skip frames above the function calling it.
func CallerAt(skip int) encode.Caller {
	var pcs [1]uintptr
	if runtime.Callers(skip+2, pcs[:]) < 1 { // 0 is Callers, 1 is CallerAt
		return encode.Caller{}
	}
	return CallerForPC(pcs[0])
}

// CallerForPC resolves a program counter from runtime.Callers (or slog's
// Record.PC) to a caller, through the cache.
func CallerForPC(pc uintptr) encode.Caller {
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

// GoroutineID reads the current goroutine's ID from the first line of its
// stack ("goroutine 42 [running]:"), the only way the runtime exposes it.
func GoroutineID() int64 {
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
