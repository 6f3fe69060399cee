package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/pipelog/pipelog/pipelogsetup"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

// pipelog replay: send a dead-letter file, or what a disk queue directory
// holds, to Elasticsearch again once the cause is fixed. Idempotent: each
// event goes under the _id it had (a create that already succeeded
// answers 409, counted as "already indexed"), so replaying twice indexes
// nothing twice. The connection comes from the environment
// (ELASTICSEARCH_URL, ELASTIC_API_KEY, … as for the sink) and -url.
func init() {
	register("replay", "re-send a dead-letter file or a disk queue directory to Elasticsearch, under the same _ids",
		func(args []string, stdout, stderr io.Writer) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			return replay(ctx, args, stdout, stderr)
		})
}

type replayFlags struct {
	conn                                        pipelogsetup.ConnFlags
	bulkPath, index, dataset, namespace, failed string
	timeout                                     time.Duration
}

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f replayFlags
	f.conn.Define(fs)
	fs.StringVar(&f.bulkPath, "bulk-path", "", "bulk request path (default /_bulk)")
	fs.StringVar(&f.index, "index", "", "send everything to this index or data stream (default: a dead letter's _index; for a queue directory the data stream of -dataset/-namespace)")
	fs.StringVar(&f.dataset, "dataset", "", "data stream dataset of a queue directory's events")
	fs.StringVar(&f.namespace, "namespace", "", "data stream namespace of a queue directory's events")
	fs.StringVar(&f.failed, "failed", "", "dead letter `file` for events that fail again (default <input>.failed.ndjson)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pipelog replay [flags] <dead-letter.ndjson | disk-queue-dir>")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	in := fs.Arg(0)
	fi, err := os.Stat(in)
	if err != nil {
		fmt.Fprintln(stderr, "pipelog replay:", err)
		return 1
	}
	if f.failed == "" {
		f.failed = strings.TrimRight(in, "/") + ".failed.ndjson"
	}
	cfg := elasticsearch.Config{BulkPath: f.bulkPath, Index: f.index, Dataset: f.dataset, Namespace: f.namespace,
		DeadLetterPath: f.failed, BlockWhenFull: true, OnError: func(err error) { fmt.Fprintln(stderr, "pipelog replay:", err) }}
	if cfg, err = f.conn.Config(cfg); err != nil {
		fmt.Fprintln(stderr, "pipelog replay:", elasticsearch.Redact(err, cfg))
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r := &replayer{cfg: cfg, stdout: stdout, stderr: stderr, sinks: map[string]*elasticsearch.Sink{}}
	if fi.IsDir() {
		err = r.queueDir(ctx, in)
	} else {
		err = r.deadLetter(ctx, in)
	}
	return r.finish(ctx, err, f.failed)
}

type replayer struct {
	cfg            elasticsearch.Config
	stdout, stderr io.Writer
	sinks          map[string]*elasticsearch.Sink // by index
	total, skipped int64
	lastProgress   time.Time
}

func (r *replayer) sink(index string) (*elasticsearch.Sink, error) {
	if s, ok := r.sinks[index]; ok {
		return s, nil
	}
	cfg := r.cfg
	if cfg.Index == "" {
		cfg.Index = index
	}
	s, err := elasticsearch.New(cfg)
	if err != nil {
		return nil, err
	}
	r.sinks[index] = s
	return s, nil
}

// stats sums the sinks' counters.
func (r *replayer) stats() (st elasticsearch.Stats) {
	for _, s := range r.sinks {
		x := s.Stats()
		st.Indexed += x.Indexed
		st.Duplicates += x.Duplicates
		st.DeadLettered += x.DeadLettered
		st.DeadLetterFailed += x.DeadLetterFailed
		st.DiskRecovered += x.DiskRecovered
	}
	return st
}

func (r *replayer) progress(force bool) {
	if !force && time.Since(r.lastProgress) < time.Second {
		return
	}
	r.lastProgress = time.Now()
	st := r.stats()
	done := st.Indexed + st.Duplicates + st.DeadLettered + st.DeadLetterFailed
	fmt.Fprintf(r.stderr, "replay: %d/%d done (%d indexed, %d already indexed, %d failed again)\n", done, r.total, st.Indexed, st.Duplicates, st.DeadLettered+st.DeadLetterFailed)
}

// deadLetter re-sends each entry of a dead-letter file under its _id.
func (r *replayer) deadLetter(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var e struct {
			Index    string          `json:"_index"`
			ID       string          `json:"_id"`
			Document json.RawMessage `json:"document"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || len(e.Document) == 0 || e.Document[0] != '{' {
			// document_raw: the line was never valid JSON; nothing to send.
			r.skipped++
			fmt.Fprintf(r.stderr, "replay: %s:%d: skipped: not a dead-lettered JSON document\n", path, line)
			continue
		}
		s, err := r.sink(e.Index)
		if err != nil {
			return err
		}
		r.total++
		doc := compactLine(e.Document)
		if e.ID != "" {
			err = s.WriteEntry(&sink.Entry{Line: doc, ID: []byte(e.ID)})
		} else {
			err = s.Write(doc)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.progress(false)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return r.flush(ctx)
}

// compactLine makes a document one line (a dead letter keeps it as it
// came, which is one line already unless edited by hand).
func compactLine(doc json.RawMessage) []byte {
	if !strings.ContainsAny(string(doc), "\n\r") {
		return doc
	}
	var b bytes.Buffer
	_ = json.Compact(&b, doc)
	return b.Bytes()
}

// queueDir sends what a disk queue directory holds: a sink started on it
// does exactly that.
func (r *replayer) queueDir(ctx context.Context, dir string) error {
	cfg := r.cfg
	cfg.QueueDir = dir
	s, err := elasticsearch.New(cfg)
	if err != nil {
		return err
	}
	r.sinks[""] = s
	r.total = s.Stats().DiskRecovered
	return r.flush(ctx)
}

// flush waits for the sinks, printing progress every second.
func (r *replayer) flush(ctx context.Context) error {
	names := make([]string, 0, len(r.sinks))
	for n := range r.sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		done := make(chan error, 1)
		go func() { done <- r.sinks[n].Flush(ctx) }()
		t := time.NewTicker(time.Second)
	wait:
		for {
			select {
			case err := <-done:
				t.Stop()
				if err != nil {
					return err
				}
				break wait
			case <-t.C:
				r.progress(true)
			}
		}
	}
	return nil
}

func (r *replayer) finish(ctx context.Context, err error, failed string) int {
	for _, s := range r.sinks {
		if cerr := s.Close(ctx); cerr != nil && err == nil {
			err = cerr
		}
	}
	st := r.stats()
	again := st.DeadLettered + st.DeadLetterFailed
	fmt.Fprintf(r.stdout, "replay: %d event(s): %d indexed, %d already indexed (409), %d failed again", r.total, st.Indexed, st.Duplicates, again)
	if st.DeadLettered > 0 {
		fmt.Fprintf(r.stdout, " (in %s)", failed)
	}
	if r.skipped > 0 {
		fmt.Fprintf(r.stdout, ", %d line(s) skipped (not JSON documents)", r.skipped)
	}
	fmt.Fprintln(r.stdout)
	switch {
	case err != nil:
		if errors.Is(err, elasticsearch.ErrPermanent) {
			fmt.Fprintln(r.stderr, "pipelog replay: stopped:", elasticsearch.Redact(err, r.cfg))
		} else {
			fmt.Fprintln(r.stderr, "pipelog replay:", elasticsearch.Redact(err, r.cfg))
		}
		return 1
	case again > 0 || r.skipped > 0:
		return 1
	}
	return 0
}
