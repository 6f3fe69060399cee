package benchmarks

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-docappender/v2"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/pipelog/pipelog/sink"
	essink "github.com/pipelog/pipelog/sink/elasticsearch"
)

// bulkDoc is a ~400-byte ECS line, the same for every client.
var bulkDoc = []byte(`{"@timestamp":"2026-11-26T01:02:03.456789Z","log.level":"info","message":"GET /api/v1/items/12345 served in 1234us","ecs.version":"9.4.0","event":{"id":"01JDQX8Z3K9M2N4P6R8T0V2X4Z","dataset":"checkout.access","kind":"event"},"service":{"name":"checkout","version":"1.4.2"},"http":{"request":{"method":"GET"},"response":{"status_code":200}},"url":{"path":"/api/v1/items/12345"},"labels":{"run":"bench"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"}}` + "\n")

// bulkDocID is bulkDoc's event.id.
const bulkDocID = "01JDQX8Z3K9M2N4P6R8T0V2X4Z"

// bulkDocNoNL is bulkDoc without its newline, for the peers (they add it).
var bulkDocNoNL = bulkDoc[:len(bulkDoc)-1]

type discard struct{}

func (discard) Write([]byte) error          { return nil }
func (discard) Flush(context.Context) error { return nil }
func (discard) Close(context.Context) error { return nil }

// BenchmarkBulk compares bulk clients against the same in-process fake, with
// gzip (level 1, the default of each that compresses) and without. The
// pipelog row feeds the sink as a Logger does, WriteEntry with the line and
// its event.id (the peers too are handed ready documents); pipelog-Write
// gives it the bare line, which it validates and parses for event.id.
//
//	cd benchmarks && go test -run '^$' -bench 'Bulk' -benchmem -benchtime 300000x
func BenchmarkBulk(b *testing.B) {
	for _, gz := range []bool{true, false} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name+"/pipelog", func(b *testing.B) { benchPipelog(b, gz, true) })
		b.Run(name+"/pipelog-Write", func(b *testing.B) { benchPipelog(b, gz, false) })
		b.Run(name+"/esutil.BulkIndexer", func(b *testing.B) { benchEsutil(b, gz) })
		b.Run(name+"/go-docappender", func(b *testing.B) { benchDocappender(b, gz) })
	}
}

func benchPipelog(b *testing.B, gz, entry bool) {
	fake := &esfake.Counter{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s, err := essink.New(essink.Config{
		Addresses:          []string{srv.URL},
		Dataset:            "bench",
		Workers:            benchWorkers(),
		FlushBytes:         benchFlushBytes(),
		DisableCompression: !gz,
		DeadLetter:         discard{},
		OnError:            func(err error) { b.Error(err) },
	})
	if err != nil {
		b.Fatal(err)
	}
	e := &sink.Entry{Line: bulkDoc, ID: []byte(bulkDocID), Level: event.LevelInfo, Time: time.Now(), Name: "access"}
	b.ReportAllocs()
	b.SetBytes(int64(len(bulkDoc)))
	b.ResetTimer()
	m := startMeasure()
	for range b.N {
		if entry {
			err = s.WriteEntry(e)
		} else {
			err = s.Write(bulkDoc)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	m.report(b, fake)
}

func benchEsutil(b *testing.B, gz bool) {
	fake := &esfake.Counter{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}, CompressRequestBody: gz, CompressRequestBodyLevel: gzip.BestSpeed, PoolCompressor: true})
	if err != nil {
		b.Fatal(err)
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "logs-bench-default", FlushBytes: 1 << 20, FlushInterval: time.Second,
		OnError: func(_ context.Context, err error) { b.Error(err) }})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(bulkDoc)))
	b.ResetTimer()
	m := startMeasure()
	for range b.N {
		if err := bi.Add(ctx, esutil.BulkIndexerItem{Action: "create", Body: bytes.NewReader(bulkDocNoNL)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := bi.Stats(); st.NumFailed > 0 {
		b.Fatalf("esutil failed %d", st.NumFailed)
	}
	m.report(b, fake)
}

func benchDocappender(b *testing.B, gz bool) {
	fake := &esfake.Counter{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	level := gzip.NoCompression // docappender's zero value
	if gz {
		level = gzip.BestSpeed
	}
	a, err := docappender.New(es, docappender.Config{FlushInterval: time.Second, CompressionLevel: level})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(bulkDoc)))
	b.ResetTimer()
	m := startMeasure()
	for range b.N {
		if err := a.Add(ctx, "logs-bench-default", bytes.NewReader(bulkDocNoNL)); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	m.report(b, fake)
}

// measure records wall time and the CPU time of the whole process (client
// and fake server): on a shared machine CPU per event is the steadier figure.
type measure struct {
	start time.Time
	cpu   time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startMeasure() measure { return measure{start: time.Now(), cpu: cpuTime()} }

func (m measure) report(b *testing.B, fake *esfake.Counter) {
	el := time.Since(m.start)
	cpu := cpuTime() - m.cpu
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	if fake != nil && fake.Items() != int64(b.N) {
		b.Fatalf("fake received %d items, want %d", fake.Items(), b.N)
	}
}

// BenchmarkVictoriaLogs compares the sink with a plain net/http loop posting
// pre-built 1,000-document bodies over 2 connections, against a real
// VictoriaLogs (PIPELOG_VICTORIALOGS_URL, see .ci/victorialogs.sh).
//
//	cd benchmarks && go test -run '^$' -bench 'VictoriaLogs' -benchmem -benchtime 500000x
func BenchmarkVictoriaLogs(b *testing.B) {
	base := os.Getenv("PIPELOG_VICTORIALOGS_URL")
	if base == "" {
		b.Skip("PIPELOG_VICTORIALOGS_URL not set")
	}
	// The sink below blocks and retries while the server is down: check it
	// is up rather than hang.
	if res, err := http.Get(base + "/health"); err != nil {
		b.Fatalf("VictoriaLogs at %s: %v", base, err)
	} else {
		_ = res.Body.Close()
	}
	query := url.Values{"_time_field": {"@timestamp"}, "_msg_field": {"message"}}
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("pipelog/gzip=%v", gz), func(b *testing.B) {
			s, err := essink.New(essink.Config{
				Addresses:          []string{base},
				BulkPath:           "/insert/elasticsearch/_bulk",
				BulkQuery:          query,
				DisableCompression: !gz,
				DeadLetter:         discard{},
				BlockWhenFull:      true,
				OnError:            func(err error) { b.Error(err) },
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			m := startMeasure()
			for range b.N {
				if err := s.Write(bulkDoc); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if st := s.Stats(); st.Indexed != int64(b.N) {
				b.Fatalf("indexed %d of %d", st.Indexed, b.N)
			}
			m.report(b, nil)
		})
	}
	b.Run("net/http-loop-1000docs-2conns", func(b *testing.B) {
		var body bytes.Buffer
		for range 1000 {
			body.WriteString(`{"create":{"_index":"logs-bench-default"}}` + "\n")
			body.Write(bulkDoc)
		}
		u := base + "/insert/elasticsearch/_bulk?" + query.Encode()
		tr := &http.Transport{MaxIdleConnsPerHost: 2}
		cl := &http.Client{Transport: tr}
		reqs := (b.N + 999) / 1000
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		m := startMeasure()
		start := m.start
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(reqs) {
					res, err := cl.Post(u, "application/x-ndjson", bytes.NewReader(body.Bytes()))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("HTTP %d", res.StatusCode)
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		el := time.Since(start)
		b.ReportMetric(float64(reqs*1000)/el.Seconds(), "events/s")
		b.ReportMetric(float64((cpuTime()-m.cpu).Nanoseconds())/float64(reqs*1000), "cpu-ns/event")
	})
}

func benchWorkers() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_WORKERS"))
	return n
}

func benchFlushBytes() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_FLUSHBYTES"))
	return n
}
