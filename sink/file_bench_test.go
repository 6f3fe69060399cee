package sink

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchLine is a realistic ECS NDJSON line (~350 bytes).
var benchLine = []byte(`{"@timestamp":"2026-11-26T01:42:07.123456Z","log.level":"info","message":"order accepted","ecs.version":"8.11.0","service.name":"checkout","service.version":"1.14.2","service.environment":"production","event.dataset":"checkout.app","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","span.id":"00f067aa0ba902b7","order.id":"A-1029384","http.response.status_code":201}` + "\n")

// truncateEvery bounds the disk a benchmark uses: every so many lines the
// file is truncated (both files are O_APPEND, so writes continue at 0).
const truncateEvery = 1 << 18 // ~95 MB

// reportCPU, deferred at the start of a benchmark, reports the process's
// CPU time per op (getrusage): cpu-ns/op (user + system) and sys-ns/op
// (system: the write(2) calls and the page cache). On a shared machine CPU
// time is steadier than wall-clock time, which includes waiting for a core.
func reportCPU(b *testing.B) func() {
	u0, s0 := rusage()
	return func() {
		u1, s1 := rusage()
		b.ReportMetric(float64(u1-u0+s1-s0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(s1-s0)/float64(b.N), "sys-ns/op")
	}
}

func rusage() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

func benchPath(b *testing.B) string {
	b.Helper()
	return filepath.Join(b.TempDir(), "bench.ndjson")
}

// BenchmarkBaselineBufio is the target's reference: append the line to a
// buffer (as an encoder does) and write it through a 256 KiB bufio.Writer
// to an *os.File.
//
// "file" writes to a file in b.TempDir(); "devnull" writes to /dev/null,
// which keeps the syscalls but drops the page-cache copy, so it measures
// the per-event CPU cost without the disk's noise.
func BenchmarkBaselineBufio(b *testing.B) {
	for _, target := range []string{"file", "devnull"} {
		b.Run(target, func(b *testing.B) { benchBaseline(b, target) })
	}
}

func benchTarget(b *testing.B, target string) (path string, truncate bool) {
	if target == "devnull" {
		return os.DevNull, false
	}
	return benchPath(b), true
}

func benchBaseline(b *testing.B, target string) {
	b.Run("serial", func(b *testing.B) {
		path, truncate := benchTarget(b, target)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		buf := make([]byte, 0, 1024)
		b.SetBytes(int64(len(benchLine)))
		b.ReportAllocs()
		defer reportCPU(b)()
		n := 0
		for b.Loop() {
			buf = append(buf[:0], benchLine...)
			if _, err := bw.Write(buf); err != nil {
				b.Fatal(err)
			}
			if n++; truncate && n%truncateEvery == 0 {
				_ = f.Truncate(0)
			}
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
	})
	b.Run("parallel", func(b *testing.B) {
		path, truncate := benchTarget(b, target)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		var mu sync.Mutex
		var n atomic.Int64
		b.SetBytes(int64(len(benchLine)))
		b.ReportAllocs()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 0, 1024)
			for pb.Next() {
				buf = append(buf[:0], benchLine...)
				mu.Lock()
				_, err := bw.Write(buf)
				mu.Unlock()
				if err != nil {
					b.Error(err)
					return
				}
				if truncate && n.Add(1)%truncateEvery == 0 {
					_ = f.Truncate(0)
				}
			}
		})
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
	})
}

// BenchmarkFile writes the same line through File: "direct" is the
// default (no rotation: *os.File, 1 MiB buffer), "direct256k" the same
// with a 256 KiB buffer, the baseline's, "rotate" goes through lumberjack with
// its usual 100 MB size limit and one backup, so it rotates every ~290k
// lines (disk use stays under 200 MB);
// "devnull" is direct mode on /dev/null (see BenchmarkBaselineBufio).
func BenchmarkFile(b *testing.B) {
	modes := []struct {
		name   string
		target string
		opts   FileConfig
	}{
		{"direct", "file", FileConfig{}},
		{"direct256k", "file", FileConfig{BufferSize: 256 << 10}},
		{"rotate", "file", FileConfig{MaxSizeMB: 100, MaxBackups: 1}},
		{"devnull", "devnull", FileConfig{}},
		{"devnull-unbuffered", "devnull", FileConfig{BufferSize: -1}},
	}
	for _, m := range modes {
		b.Run(m.name+"/serial", func(b *testing.B) {
			path, truncate := benchTarget(b, m.target)
			truncate = truncate && !m.opts.rotates() // lumberjack bounds disk itself
			s, err := NewFile(path, m.opts)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, 1024)
			b.SetBytes(int64(len(benchLine)))
			b.ReportAllocs()
			defer reportCPU(b)()
			n := 0
			for b.Loop() {
				buf = append(buf[:0], benchLine...)
				if err := s.Write(buf); err != nil {
					b.Fatal(err)
				}
				if n++; truncate && n%truncateEvery == 0 {
					_ = os.Truncate(path, 0)
				}
			}
			if err := s.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(m.name+"/parallel", func(b *testing.B) {
			path, truncate := benchTarget(b, m.target)
			truncate = truncate && !m.opts.rotates()
			s, err := NewFile(path, m.opts)
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetBytes(int64(len(benchLine)))
			b.ReportAllocs()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 0, 1024)
				for pb.Next() {
					buf = append(buf[:0], benchLine...)
					if err := s.Write(buf); err != nil {
						b.Error(err)
						return
					}
					if truncate && n.Add(1)%truncateEvery == 0 {
						_ = os.Truncate(path, 0)
					}
				}
			})
			if err := s.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkWriteSize is the kernel's side of the buffer size: one op is
// one write(2) of a block to a file in b.TempDir(), truncated every ~96 MB.
// Blocks of exactly 256 KiB or 1 MiB (what bufio writes) end on page
// boundaries; a buffer of whole lines ends where a line ends, as the
// "-200" sizes do. sys-ns/KiB is the system time per KiB written.
func BenchmarkWriteSize(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{
		{"256KiB", 256 << 10},
		{"256KiB-200", 256<<10 - 200},
		{"1MiB", 1 << 20},
		{"1MiB-200", 1<<20 - 200},
	} {
		b.Run(size.name, func(b *testing.B) {
			f, err := os.OpenFile(benchPath(b), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			block := bytes.Repeat([]byte("x"), size.n)
			b.SetBytes(int64(size.n))
			_, s0 := rusage()
			written := 0
			for b.Loop() {
				if _, err := f.Write(block); err != nil {
					b.Fatal(err)
				}
				if written += size.n; written >= 96<<20 {
					_ = f.Truncate(0)
					written = 0
				}
			}
			_, s1 := rusage()
			b.ReportMetric(float64(s1-s0)/(float64(b.N)*float64(size.n)/1024), "sys-ns/KiB")
		})
	}
}
