package elasticsearch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pipelog/pipelog/internal/dsname"
	"github.com/pipelog/pipelog/sink"
)

// Config configures an Elasticsearch bulk sink. The zero value
// of every field selects the documented default.
type Config struct {
	// Connection: a pool of nodes (github.com/elastic/elastic-transport-go)
	// that sets a dead node aside for a while. Addresses (http:// or
	// https:// URLs, possibly with user:password@) and CloudID
	// ("name:base64(host$es-uuid$kibana-uuid)", for https://es-uuid.host)
	// are exclusive; with neither, the comma-separated ELASTICSEARCH_URL or
	// http://localhost:9200 is used. Credentials: a URL's own user wins,
	// then APIKey, then ServiceToken, then Username and Password. TLS is
	// verified against the system roots or CACert; with
	// CertificateFingerprint, the server must present a certificate with
	// that SHA-256 instead. A caller's Transport is used as given.
	Addresses              []string
	CloudID                string
	APIKey                 string // encoded, as Elasticsearch returns it
	Username               string
	Password               string
	ServiceToken           string
	CACert                 []byte // PEM
	CertificateFingerprint string // 64 hex digits, colons allowed
	// Header is added to every bulk request (e.g. VL-Time-Field).
	Header http.Header
	// Transport replaces the default tuned *http.Transport. CACert and
	// CertificateFingerprint apply only to an *http.Transport.
	Transport http.RoundTripper

	// Target. Index, when set, is used verbatim; otherwise the data stream
	// DataStreamName(Type, Dataset, Namespace), default "logs-generic-default".
	Type      string
	Dataset   string
	Namespace string
	Index     string
	// BulkPath is the request path, default "/_bulk"; BulkQuery is added as
	// query parameters (e.g. _time_field=@timestamp for VictoriaLogs).
	BulkPath  string
	BulkQuery url.Values

	// Batching. A request is sent when it holds FlushBytes (uncompressed,
	// default 1 MiB) or FlushEvents (default 10000) or FlushInterval
	// (default 1s) has passed. Workers (default 8, or 2×GOMAXPROCS up to 16)
	// requests run at once. Write copies each event into a 64 KiB chunk
	// and one goroutine builds the batch from the chunks, compressing them
	// (the batch then keeps only the compressed body; a retry of some of
	// its items or a dead letter decompresses it) or not.
	FlushBytes    int
	FlushEvents   int
	FlushInterval time.Duration
	Workers       int
	// CompressionLevel is the gzip level (default 1, best speed); set
	// DisableCompression to send plain NDJSON.
	CompressionLevel   int
	DisableCompression bool

	// Queue. Everything accepted and not yet resolved (queued, in flight or
	// waiting for a retry) counts against MaxQueueBytes (default 64 MiB) and
	// MaxQueueEvents (default 250000). When full, Write drops the event at
	// once (counted, reported at most once a second, ErrQueueFull
	// returned); with QueueFullTimeout > 0 it first waits that long for
	// room; with BlockWhenFull it waits until there is room or the sink
	// closes. The default never stalls a caller: during an outage a log
	// call that waited would turn the cluster's outage into the
	// application's (with the old 1s default, every Emit took 1s).
	// With a disk queue these bounds apply behind it, to the events read
	// from disk, and callers never wait for them.
	MaxQueueBytes    int64
	MaxQueueEvents   int
	QueueFullTimeout time.Duration
	BlockWhenFull    bool

	// Disk queue. With QueueDir (a state directory, created 0750), Write
	// appends each event to a crash-safe queue there (CRC-framed segment
	// files, 0640) and returns; the sink reads it back into the batches and
	// persists as delivered only what the server answered for. A process
	// that starts on the directory sends what is left, under the same
	// _ids, so a kill loses nothing accepted (DiskSyncBatch, the default)
	// and duplicates nothing. DiskSync chooses the fsync policy (see
	// DiskSyncBatch); MaxDiskBytes (default 1 GiB) bounds the directory,
	// and DiskFull (default DiskFullDropNewest) says what a full one does.
	QueueDir         string
	DiskSync         DiskSync
	DiskSyncInterval time.Duration
	MaxDiskBytes     int64
	DiskFull         DiskFull

	// Permanent failures — TLS verification, HTTP 401/403, 404 on the bulk
	// path, a server that is not Elasticsearch (checked with GET /) — are
	// reported once, with what to fix, and not retried: the events are
	// dead-lettered, or, with a disk queue, stay on disk and are tried
	// again once per RetryBackoffMax. Flush and Close return the failure
	// (errors.Is ErrPermanent). Check tests a configuration at start-up.
	//
	// Retries. Network errors, request timeouts and whole-request
	// 429/502/503/504 are retried without limit while the sink is open (an
	// unreachable cluster applies back-pressure through the queue). Per-item
	// 429/5xx and ambiguous whole-request failures (500, unparseable body,
	// item count mismatch, non-Elasticsearch server) are retried MaxRetries
	// times (default 5; negative: never), then dead-lettered. Backoff is
	// exponential from RetryBackoffMin (100ms) to RetryBackoffMax (30s) with
	// jitter. RequestTimeout (default 30s) bounds each request.
	MaxRetries      int
	RetryBackoffMin time.Duration
	RetryBackoffMax time.Duration
	RequestTimeout  time.Duration

	// DeadLetter receives, as NDJSON, each event that cannot be delivered:
	// {"@timestamp":..,"status":..,"error":{"type":..,"reason":..},
	// "_index":..,"_id":..,"attempts":..,"document":<original>} (an invalid
	// line is kept as the string "document_raw"). Default: a
	// sink.DeadLetterFile at DeadLetterPath (default sink.DefaultDeadLetterPath()),
	// closed by Close; a caller-supplied sink is not closed.
	DeadLetter     sink.Sink
	DeadLetterPath string

	// OnError receives every error the sink cannot return from Write:
	// delivery failures, dead letters, drops (aggregated at most once a
	// second). Default: print to standard error. Errors never contain
	// credentials.
	OnError func(error)
}

var (
	// ErrQueueFull is returned by Write when the event was dropped.
	ErrQueueFull = errors.New("sink: elasticsearch: queue full, event dropped")
	// ErrInvalidLine is returned by Write for a line that is not one JSON
	// object; the line goes to the dead letter.
	ErrInvalidLine = errors.New("sink: elasticsearch: invalid line")
)

// DataStreamName returns "<type>-<dataset>-<namespace>" with each part
// sanitised to the Elasticsearch data stream naming rules: lower case, none
// of \ / * ? " < > | , # : space or '-' (replaced by '_'), no leading '_',
// '-' or '+', and at most 100 bytes for dataset and namespace. Empty parts
// default to "logs", "generic" and "default".
func DataStreamName(typ, dataset, namespace string) string {
	return sanitizeDSPart(typ, "logs") + "-" + sanitizeDSPart(dataset, "generic") + "-" + sanitizeDSPart(namespace, "default")
}

func sanitizeDSPart(s, def string) string { return dsname.Part(s, def) }

// setDefaults replaces every zero field with its documented default.
func (cfg *Config) setDefaults() error {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&cfg.FlushBytes, 1<<20)
	def(&cfg.FlushEvents, 10000)
	defD(&cfg.FlushInterval, time.Second)
	def(&cfg.Workers, min(16, max(8, 2*runtime.GOMAXPROCS(0))))
	if cfg.CompressionLevel == 0 {
		cfg.CompressionLevel = gzip.BestSpeed
	}
	if cfg.CompressionLevel < gzip.HuffmanOnly || cfg.CompressionLevel > gzip.BestCompression {
		return fmt.Errorf("sink: elasticsearch: invalid compression level %d", cfg.CompressionLevel)
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = 64 << 20
	}
	def(&cfg.MaxQueueEvents, 250000)
	if cfg.QueueFullTimeout == 0 {
		cfg.QueueFullTimeout = -1 // drop at once
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	defD(&cfg.RetryBackoffMin, 100*time.Millisecond)
	defD(&cfg.RetryBackoffMax, 30*time.Second)
	defD(&cfg.RequestTimeout, 30*time.Second)
	if cfg.BulkPath == "" {
		cfg.BulkPath = "/_bulk"
	}
	if !strings.HasPrefix(cfg.BulkPath, "/") {
		cfg.BulkPath = "/" + cfg.BulkPath
	}
	return nil
}
