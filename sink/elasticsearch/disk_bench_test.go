package elasticsearch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink"
)

// BenchmarkDiskQueue is the sink's throughput, from WriteEntry to the
// endpoint's answer (Close inside the timed region), with the in-memory
// queue and with the disk queue under each fsync policy, on the same
// in-process endpoint, with 8, 128 and 1024 concurrent writers (the group commit
// shares each fsync among the writers waiting for it). Reported:
// fsyncs/s and events/fsync (the group size).
//
//	go test -run '^$' -bench 'DiskQueue' -benchtime 200000x -count 5 ./sink/elasticsearch
func BenchmarkDiskQueue(b *testing.B) {
	line := testDoc("bench", 42)
	for _, par := range []int{4, 64, 512} {
		for _, mode := range []string{"memory", "disk-batch", "disk-interval"} {
			b.Run(fmt.Sprintf("writers=%d/%s", 2*par, mode), func(b *testing.B) {
				rec, dl, el := &esfake.Counter{}, &memSink{}, &errLog{}
				cfg := fastConfig("http://es.invalid:9200", dl, el)
				cfg.Transport = rec
				cfg.FlushEvents, cfg.FlushInterval, cfg.Workers = 0, 0, 0 // the defaults
				cfg.BlockWhenFull = true
				switch mode {
				case "disk-batch":
					cfg.QueueDir = b.TempDir()
				case "disk-interval":
					cfg.QueueDir, cfg.DiskSync = b.TempDir(), DiskSyncInterval
				}
				s, err := New(cfg)
				require.NoError(b, err)
				b.ReportAllocs()
				b.SetBytes(int64(len(line)))
				b.SetParallelism(par)
				c0 := cpuTime()
				start := time.Now()
				b.ResetTimer()
				var n int64
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						e := &sink.Entry{Line: line, ID: fmt.Appendf(nil, "%p-%d", pb, i)}
						if err := s.WriteEntry(e); err != nil {
							b.Error(err)
							return
						}
					}
				})
				require.NoError(b, s.Close(context.Background()))
				b.StopTimer()
				el0 := time.Since(start)
				n = int64(b.N)
				b.ReportMetric(float64(cpuTime()-c0)/float64(n), "cpu-ns/op")
				if st := s.Stats(); st.DiskFsyncs > 0 {
					b.ReportMetric(float64(st.DiskFsyncs)/el0.Seconds(), "fsyncs/s")
					b.ReportMetric(float64(st.DiskFsyncRecords)/float64(st.DiskFsyncs), "events/fsync")
				}
				if got := rec.Items(); got != n {
					b.Fatalf("endpoint got %d items, want %d", got, n)
				}
			})
		}
	}
}
