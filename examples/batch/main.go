// Command batch is a small ETL job logged with pipelog: it reads orders from
// a CSV file, validates them, converts amounts to EUR, writes the valid ones
// to a CSV file and logs typed ECS events — one per rejected row, one per
// batch, the job's start and end — to standard output, to a file and,
// optionally, to Elasticsearch.
//
//	go run ./examples/batch                        # the embedded testdata/orders.csv, output in a temp dir
//	go run ./examples/batch -in orders.csv -out ./out
//	go run ./examples/batch -es-url http://localhost:9200   # or PIPELOG_ES_URL, or ELASTICSEARCH_URL / ELASTIC_CLOUD_ID (+ ELASTIC_API_KEY, ELASTICSEARCH_CA_CERT)
//	go run ./examples/batch -setup --print                  # the data stream's templates (setup.go)
//
// Every event of a run shares one trace.id: the run ID that pipelog.RunJob
// mints. Standard output carries the NDJSON events only (pipe it to jq); a
// one-line summary goes to standard error; the exit code is RunJob's (0 ok,
// 1 failed, 2 panic, 3 events lost, 130/143 signal; 2 also for bad flags,
// before the job starts).
package main

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

//go:embed testdata/orders.csv
var sampleOrders []byte

// The job's typed events. Untagged fields are written under
// Pipelog.<EventName>; tagged ones on the ECS field.

// InputOpened is written when the input has been opened.
type InputOpened struct {
	event.Base
	Path string `ecs:"file.path"`
	Size int64  `ecs:"file.size"`
}

// RowRejected is written for each row that fails validation.
type RowRejected struct {
	event.Base
	Line    int    `json:"line"`
	OrderID string `json:"order_id,omitempty"`
	Field   string `json:"field"`
}

// BatchWritten is written after each batch of valid rows is written.
type BatchWritten struct {
	event.Base
	Batch    int           `json:"batch"`
	Rows     int           `json:"rows"`
	Rejected int           `json:"rejected"`
	AmountEU float64       `json:"amount_eur"`
	Duration time.Duration `ecs:"event.duration"`
}

// OutputWritten is written when the output file is complete.
type OutputWritten struct {
	event.Base
	Path string `ecs:"file.path"`
	Size int64  `ecs:"file.size"`
	Rows int    `json:"rows"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	in, out, logPath, esURL string
	batchSize               int
	maxReject               float64
}

// summary is what the job reports back for the final line.
type summary struct {
	read, written, rejected, batches int
	output                           string
}

// run is main, testable: it parses args, runs the job and returns the exit
// code. Log lines go to stdout, and nothing else does, so that it can be
// piped to jq; the summary and errors go to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-setup" || args[0] == "--setup") {
		return runSetup(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.in, "in", "", "input CSV `file` (default: the embedded testdata/orders.csv)")
	fs.StringVar(&o.out, "out", "", "output `directory` (default: a new temporary directory)")
	fs.StringVar(&o.logPath, "log", "", "log `file` (default: <out>/pipelog-batch.ndjson)")
	fs.StringVar(&o.esURL, "es-url", os.Getenv("PIPELOG_ES_URL"), "Elasticsearch `URL` to also log to (default: $PIPELOG_ES_URL, else $ELASTICSEARCH_URL or $ELASTIC_CLOUD_ID; none: off)")
	fs.IntVar(&o.batchSize, "batch", 10, "rows per batch")
	fs.Float64Var(&o.maxReject, "max-reject", 0.5, "fail when more than this fraction of rows is rejected")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.batchSize <= 0 {
		fmt.Fprintln(stderr, "batch: -batch must be positive")
		return 2
	}
	if o.out == "" {
		dir, err := os.MkdirTemp("", "pipelog-batch-")
		if err != nil {
			fmt.Fprintln(stderr, "batch:", err)
			return 1
		}
		o.out = dir
	} else if err := os.MkdirAll(o.out, 0o750); err != nil {
		fmt.Fprintln(stderr, "batch:", err)
		return 1
	}
	if o.logPath == "" {
		o.logPath = filepath.Join(o.out, "pipelog-batch.ndjson")
	}

	file, err := sink.NewFile(o.logPath, sink.FileConfig{})
	if err != nil {
		fmt.Fprintln(stderr, "batch:", err)
		return 1
	}
	sinks := []sink.Sink{sink.NewWriter(stdout, sink.WriterConfig{}), file}
	if o.esURL != "" || os.Getenv(elasticsearch.EnvURL) != "" || os.Getenv(elasticsearch.EnvCloudID) != "" {
		// The connection comes from the environment as the platform sets
		// it (ELASTICSEARCH_URL or ELASTIC_CLOUD_ID, ELASTIC_API_KEY, a CA
		// file...): a secured cluster needs no code change.
		cfg := elasticsearch.Config{
			Dataset:        dataset,
			DeadLetterPath: filepath.Join(o.out, "pipelog-batch.deadletter.ndjson"),
		}
		if o.esURL != "" {
			cfg.Addresses = []string{o.esURL}
		}
		cfg, err = elasticsearch.ConfigFromEnv(cfg)
		var es *elasticsearch.Sink
		if err == nil {
			es, err = elasticsearch.New(cfg)
		}
		if err != nil {
			_ = file.Close(context.Background())
			fmt.Fprintln(stderr, "batch:", err)
			return 1
		}
		sinks = append(sinks, es)
	}
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Version: "1.0.0", Sinks: sinks,
		DataStream: &pipelog.DataStream{Dataset: dataset}})
	if err != nil {
		fmt.Fprintln(stderr, "batch:", err)
		return 1
	}

	var sum summary
	var runID string
	code := pipelog.RunJob(context.Background(), log, pipelog.Job{Name: "import-orders", Run: func(ctx context.Context) error {
		runID = logctx.CorrelationID(ctx)
		return etl(ctx, log, o, &sum)
	}})
	status := "ok"
	if code != pipelog.ExitOK {
		status = "FAILED"
	}
	if sum.output == "" {
		sum.output = "(none)"
	}
	fmt.Fprintf(stderr, "orders-etl %s: read %d rows, wrote %d, rejected %d in %d batches; output %s; log %s; run %s; exit %d\n",
		status, sum.read, sum.written, sum.rejected, sum.batches, sum.output, o.logPath, runID, code)
	return code
}

// order is a validated, transformed row.
type order struct {
	ID, Customer, Country string
	AmountEUR             float64
	OrderedAt             time.Time
}

// eurPer is a fixed conversion table (a real job would load the day's rates).
var eurPer = map[string]float64{"EUR": 1, "USD": 0.92, "GBP": 1.17}

var columns = []string{"order_id", "customer", "country", "amount", "currency", "ordered_at"}

// rowError says which field of a row is wrong and why.
type rowError struct{ field, reason string }

func (e *rowError) Error() string { return e.field + ": " + e.reason }

func validate(rec []string, seen map[string]bool) (order, *rowError) {
	if len(rec) != len(columns) {
		return order{}, &rowError{"row", fmt.Sprintf("%d fields, want %d", len(rec), len(columns))}
	}
	o := order{ID: strings.TrimSpace(rec[0]), Customer: strings.TrimSpace(rec[1]), Country: strings.ToUpper(strings.TrimSpace(rec[2]))}
	if o.ID == "" {
		return o, &rowError{"order_id", "empty"}
	}
	if seen[o.ID] {
		return o, &rowError{"order_id", "duplicate"}
	}
	if o.Customer == "" {
		return o, &rowError{"customer", "empty"}
	}
	if len(o.Country) != 2 {
		return o, &rowError{"country", "not a two-letter code"}
	}
	amount, err := strconv.ParseFloat(rec[3], 64)
	if err != nil || math.IsNaN(amount) || math.IsInf(amount, 0) {
		return o, &rowError{"amount", "not a number"}
	}
	if amount <= 0 {
		return o, &rowError{"amount", "not positive"}
	}
	rate, ok := eurPer[rec[4]]
	if !ok {
		return o, &rowError{"currency", "unsupported currency"}
	}
	o.AmountEUR = math.Round(amount*rate*100) / 100
	o.OrderedAt, err = time.Parse(time.RFC3339, rec[5])
	if err != nil {
		return o, &rowError{"ordered_at", "not an RFC 3339 time"}
	}
	seen[o.ID] = true
	return o, nil
}

// etl is the job: read, validate, transform, write in batches.
func etl(ctx context.Context, log *pipelog.Logger, o options, sum *summary) error {
	var input io.Reader
	inPath := o.in
	if inPath == "" {
		inPath = "embedded:testdata/orders.csv"
		input = strings.NewReader(string(sampleOrders))
		pipelog.Emit(ctx, log, InputOpened{Base: event.Info("input opened"), Path: inPath, Size: int64(len(sampleOrders))})
	} else {
		f, err := os.Open(inPath)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		input = f
		pipelog.Emit(ctx, log, InputOpened{Base: event.Info("input opened"), Path: inPath, Size: st.Size()})
	}

	r := csv.NewReader(input)
	r.FieldsPerRecord = -1 // checked per row, so a short row is a rejected row, not a fatal error
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if strings.Join(header, ",") != strings.Join(columns, ",") {
		return fmt.Errorf("unexpected header %q, want %q", header, columns)
	}

	outPath := filepath.Join(o.out, "orders_eur.csv")
	tmp, err := os.CreateTemp(o.out, ".orders_eur-*.csv")
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	w := csv.NewWriter(tmp)
	if err := w.Write([]string{"order_id", "customer", "country", "amount_eur", "ordered_date"}); err != nil {
		return fmt.Errorf("write output: %w", err)
	}

	seen := map[string]bool{}
	batch, batchRejected := 0, 0
	var batchEUR float64
	batchStart := time.Now()
	flushBatch := func() error {
		if batch == 0 && batchRejected == 0 {
			return nil
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		sum.batches++
		pipelog.Emit(ctx, log, BatchWritten{
			Base:  event.Info("batch written"),
			Batch: sum.batches, Rows: batch, Rejected: batchRejected,
			AmountEU: math.Round(batchEUR*100) / 100, Duration: time.Since(batchStart),
		})
		batch, batchRejected, batchEUR, batchStart = 0, 0, 0, time.Now()
		return nil
	}
	for line := 2; ; line++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped at line %d: %w", line, err)
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read input line %d: %w", line, err)
		}
		sum.read++
		ord, rerr := validate(rec, seen)
		if rerr != nil {
			sum.rejected++
			batchRejected++
			pipelog.Emit(ctx, log, RowRejected{
				Base: event.Warn("row rejected").WithReason(rerr.Error()),
				Line: line, OrderID: ord.ID, Field: rerr.field,
			})
		} else {
			if err := w.Write([]string{ord.ID, ord.Customer, ord.Country,
				strconv.FormatFloat(ord.AmountEUR, 'f', 2, 64), ord.OrderedAt.UTC().Format(time.DateOnly)}); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			sum.written++
			batch++
			batchEUR += ord.AmountEUR
		}
		if batch+batchRejected == o.batchSize {
			if err := flushBatch(); err != nil {
				return err
			}
		}
	}
	if err := flushBatch(); err != nil {
		return err
	}
	if sum.read > 0 && float64(sum.rejected)/float64(sum.read) > o.maxReject {
		return fmt.Errorf("%d of %d rows rejected, more than the allowed %.0f%%", sum.rejected, sum.read, o.maxReject*100)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := os.Rename(tmp.Name(), outPath); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	st, err := os.Stat(outPath)
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	sum.output = outPath
	pipelog.Emit(ctx, log, OutputWritten{Base: event.Info("output written"), Path: outPath, Size: st.Size(), Rows: sum.written})
	return nil
}
