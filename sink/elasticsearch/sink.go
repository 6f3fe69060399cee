package elasticsearch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/klauspost/compress/gzip"

	"github.com/pipelog/pipelog/sink"
)

// Config configures an Elasticsearch bulk sink. The zero value
// of every field selects the documented default.
type Config struct {
	// Connection (handled by github.com/elastic/go-elasticsearch/v8).
	// Addresses and CloudID are exclusive; with neither, ELASTICSEARCH_URL
	// or http://localhost:9200 is used. TLS is verified unless the caller
	// supplies a Transport that does otherwise.
	Addresses              []string
	CloudID                string
	APIKey                 string
	Username               string
	Password               string
	ServiceToken           string
	CACert                 []byte // PEM
	CertificateFingerprint string // SHA-256 hex of the server certificate
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
	// requests run at once. With compression, Write compresses each event
	// into the current batch as it is added (while it is still in the CPU
	// cache); the batch keeps only the compressed body, and a retry of some
	// of its items or a dead letter decompresses it.
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
	// MaxQueueEvents (default 250000). When full, Write waits up to
	// QueueFullTimeout (default 1s; negative: not at all) and then drops the
	// event (counted, reported, ErrQueueFull returned) — or, with
	// BlockWhenFull, waits until there is room or the sink closes.
	MaxQueueBytes    int64
	MaxQueueEvents   int
	QueueFullTimeout time.Duration
	BlockWhenFull    bool

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

// Stats is a snapshot of the sink's counters.
type Stats struct {
	Queued           int64 // events accepted, not yet in a request (incl. waiting for retry)
	QueuedBytes      int64 // bytes of everything unresolved (the queue bound)
	InFlight         int64 // events in a request being sent
	Accepted         int64 // events accepted by Write
	Indexed          int64 // created (2xx)
	Duplicates       int64 // 409 on create: already indexed, counted as delivered
	Retried          int64 // event re-sends
	DeadLettered     int64 // events written to the dead letter
	DeadLetterFailed int64 // events the dead letter refused too: lost, reported
	Dropped          int64 // events refused because the queue was full
	Rejected         int64 // invalid lines refused by Write (also dead-lettered)

	Requests      int64 // bulk requests sent
	RequestErrors int64 // requests that failed as a whole
	BytesRaw      int64 // request bytes before compression
	BytesSent     int64 // request bytes after compression
	LatencyTotal  time.Duration
	LatencyMax    time.Duration
}

var (
	_ sink.Sink = (*Sink)(nil)
	_ sink.Sink = (*sink.DeadLetterFile)(nil)
)

var (
	// ErrQueueFull is returned by Write when the event was dropped.
	ErrQueueFull = errors.New("sink: elasticsearch: queue full, event dropped")
	// ErrInvalidLine is returned by Write for a line that is not one JSON
	// object; the line goes to the dead letter.
	ErrInvalidLine = errors.New("sink: elasticsearch: invalid line")
)

// Sink is an asynchronous bulk sink into an Elasticsearch data
// stream (or any server speaking the _bulk protocol).
type Sink struct {
	cfg       Config
	client    *elasticsearch.BaseClient
	bulkURL   string
	header    http.Header
	index     string
	idPrefix  string
	actionPre []byte // `{"create":{"_index":"<index>","_id":"`
	secrets   []string
	dl        sink.Sink
	ownDL     bool
	onError   func(error)

	mu           sync.Mutex
	workCond     *sync.Cond
	active       *esBatch
	spare        []byte       // a full-size batch buffer kept for reuse
	gz           *gzip.Writer // compresses the active batch as events are added
	scratch      []byte       // one event's action and document lines, for gz
	queue        []*esBatch
	pendingBytes int64
	pendingEvts  int64
	epoch        uint64
	epochPending map[uint64]int64
	spaceCh      chan struct{}
	spaceWaiters int
	drainCh      chan struct{}
	drainWaiters int
	closed       bool
	isClosed     atomic.Bool // closed, readable without mu
	stopping     bool
	closedCh     chan struct{}

	abortCtx  context.Context
	abort     context.CancelFunc
	workers   sync.WaitGroup
	ticker    sync.WaitGroup
	idCounter atomic.Uint64

	dropMu       sync.Mutex
	dropUnreport int64

	st struct {
		queued, inFlight, accepted, indexed, dups, retried, dead, deadFailed,
		dropped, rejected, requests, reqErrors, bytesRaw, bytesSent,
		latTotal, latMax, closeDead atomic.Int64
	}
}

// esBatch is a bulk request body: action and document lines back to back,
// with each item's offsets. With compression, Write compresses each event
// into z as it is added (the data is still in the CPU cache, and the batch
// never holds a raw copy); buf is then nil until a retry or a dead letter
// needs the raw lines (ensureRaw). Offsets always refer to the raw body.
type esBatch struct {
	buf    []byte
	z      *bytes.Buffer // complete gzip body once cut, or nil
	rawLen int           // length of the raw body
	items  []esItem
}

type esItem struct {
	start, doc, end uint32 // action line at buf[start:doc], document line at buf[doc:end]
	idStart, idEnd  uint32 // _id (JSON-escaped) within the action line
	retries         uint16
	epoch           uint64
}

func (it *esItem) size() int64 { return int64(it.end - it.start) }

var (
	batchPool = sync.Pool{New: func() any { return new(esBatch) }}
	zbufPool  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

func getBatch() *esBatch { return batchPool.Get().(*esBatch) }

func putBatch(b *esBatch) {
	if b.z != nil {
		if b.z.Cap() <= 16<<20 {
			b.z.Reset()
			zbufPool.Put(b.z)
		}
		b.z = nil
	}
	b.rawLen = 0
	if cap(b.buf) > 64<<20 {
		return
	}
	b.buf = b.buf[:0]
	b.items = b.items[:0]
	batchPool.Put(b)
}

// ensureRaw gives b its raw body (decompressing z) for the paths that need
// the lines themselves: per-item retries, splits and dead letters.
func ensureRaw(b *esBatch) {
	if b.z == nil || len(b.buf) == b.rawLen {
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.z.Bytes()))
	if err == nil {
		b.buf = slices.Grow(b.buf[:0], b.rawLen)[:b.rawLen]
		_, err = io.ReadFull(zr, b.buf)
	}
	if err != nil {
		// The sink compressed these bytes itself, in memory: failing to
		// read them back is a bug, never an input or network condition.
		panic("sink: elasticsearch: internal error: cannot read back a compressed batch: " + err.Error())
	}
}

// NewElasticsearch returns a running sink. It does not contact the server:
// an unreachable cluster delays delivery, never construction.
func New(cfg Config) (*Sink, error) {
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
		return nil, fmt.Errorf("sink: elasticsearch: invalid compression level %d", cfg.CompressionLevel)
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = 64 << 20
	}
	def(&cfg.MaxQueueEvents, 250000)
	if cfg.QueueFullTimeout == 0 {
		cfg.QueueFullTimeout = time.Second
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

	s := &Sink{cfg: cfg, epochPending: map[uint64]int64{}}
	s.secrets = collectSecrets(cfg)

	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Workers + 1
		t.MaxIdleConns = 4 * (cfg.Workers + 1)
		t.ResponseHeaderTimeout = 0
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr = t
	}
	client, err := elasticsearch.NewBaseClient(elasticsearch.Config{
		Addresses:              cfg.Addresses,
		CloudID:                cfg.CloudID,
		APIKey:                 cfg.APIKey,
		Username:               cfg.Username,
		Password:               cfg.Password,
		ServiceToken:           cfg.ServiceToken,
		CACert:                 cfg.CACert,
		CertificateFingerprint: cfg.CertificateFingerprint,
		Transport:              tr,
		DisableRetry:           true, // the sink retries per item, with its own backoff
	})
	if err != nil {
		return nil, s.redact(fmt.Errorf("sink: elasticsearch: %w", err))
	}
	s.client = client

	u := url.URL{Path: cfg.BulkPath, RawQuery: cfg.BulkQuery.Encode()}
	s.bulkURL = u.String()
	s.header = http.Header{}
	for k, v := range cfg.Header {
		s.header[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	s.header.Set("Content-Type", "application/x-ndjson")
	if !cfg.DisableCompression {
		s.header.Set("Content-Encoding", "gzip")
	}

	s.index = cfg.Index
	if s.index == "" {
		s.index = DataStreamName(cfg.Type, cfg.Dataset, cfg.Namespace)
	}
	if strings.ContainsAny(s.index, "\"\\\n") {
		return nil, fmt.Errorf("sink: elasticsearch: invalid index name %q", s.index)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	s.idPrefix = hex.EncodeToString(rnd[:]) + "-"
	s.actionPre = []byte(`{"create":{"_index":"` + s.index + `","_id":"`)
	if !cfg.DisableCompression {
		s.gz, _ = gzip.NewWriterLevel(io.Discard, cfg.CompressionLevel)
	}

	s.dl = cfg.DeadLetter
	if s.dl == nil {
		p := cfg.DeadLetterPath
		if p == "" {
			p = sink.DefaultDeadLetterPath()
		}
		s.dl = sink.NewDeadLetterFile(p)
		s.ownDL = true
	}
	s.onError = cfg.OnError
	if s.onError == nil {
		s.onError = func(err error) { fmt.Fprintln(os.Stderr, "pipelog:", err) }
	}

	s.workCond = sync.NewCond(&s.mu)
	s.spaceCh = make(chan struct{})
	s.drainCh = make(chan struct{})
	s.closedCh = make(chan struct{})
	s.abortCtx, s.abort = context.WithCancel(context.Background())

	s.workers.Add(cfg.Workers)
	for range cfg.Workers {
		go s.worker()
	}
	s.ticker.Add(1)
	go s.tick()
	return s, nil
}

// Index is the data stream (or index) the sink writes to.
func (s *Sink) Index() string { return s.index }

// Write validates p (one JSON object, optionally followed by '\n'), copies
// it into the current batch and returns. The document's event.id becomes the
// bulk _id; a document without one gets a sink-minted _id, so retries never
// index it twice.
func (s *Sink) Write(p []byte) error {
	if s.isClosed.Load() {
		return sink.ErrClosed
	}
	line := p
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	id, reason := scanLine(line)
	if reason != "" {
		s.st.rejected.Add(1)
		err := fmt.Errorf("%w: %s", ErrInvalidLine, reason)
		s.deadLetterRaw(line, reason)
		return err
	}
	var minted [32]byte
	if id == nil {
		id = strconv.AppendUint(append(minted[:0], s.idPrefix...), s.idCounter.Add(1), 36)
	}
	need := int64(len(`{"create":{"_index":"","_id":""}}`) + len(s.index) + len(id) + len(line) + 2) // two '\n'

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return sink.ErrClosed
	}
	if need > s.cfg.MaxQueueBytes {
		s.mu.Unlock()
		s.st.rejected.Add(1)
		reason := fmt.Sprintf("event of %d bytes exceeds MaxQueueBytes %d", need, s.cfg.MaxQueueBytes)
		s.deadLetterRaw(line, reason)
		return fmt.Errorf("%w: %s", ErrInvalidLine, reason)
	}
	if s.pendingBytes+need > s.cfg.MaxQueueBytes || s.pendingEvts+1 > int64(s.cfg.MaxQueueEvents) {
		if err := s.waitForSpaceLocked(need); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	b := s.active
	if b == nil {
		b = getBatch()
		if s.gz != nil {
			b.buf = nil // only ensureRaw needs one, rarely
			b.z = zbufPool.Get().(*bytes.Buffer)
			s.gz.Reset(b.z)
		} else if cap(b.buf) < s.cfg.FlushBytes {
			if s.spare != nil {
				b.buf, s.spare = s.spare, nil
			} else {
				b.buf = make([]byte, 0, s.cfg.FlushBytes+s.cfg.FlushBytes/4)
			}
		}
		s.active = b
	}
	// The two lines go to the raw body, or (compressed) to scratch and
	// then through gz; dst[0] is at raw offset b.rawLen either way.
	dst := b.buf
	if s.gz != nil {
		dst = s.scratch[:0]
	}
	base := uint32(b.rawLen) - uint32(len(dst))
	it := esItem{start: uint32(len(dst)), epoch: s.epoch}
	dst = append(dst, s.actionPre...)
	it.idStart = uint32(len(dst))
	dst = append(dst, id...)
	it.idEnd = uint32(len(dst))
	dst = append(dst, "\"}}\n"...)
	it.doc = uint32(len(dst))
	dst = append(dst, line...)
	dst = append(dst, '\n')
	it.end = uint32(len(dst))
	b.rawLen += int(it.end - it.start)
	it.start += base
	it.idStart += base
	it.idEnd += base
	it.doc += base
	it.end += base
	if s.gz != nil {
		_, _ = s.gz.Write(dst[it.start-base:]) // into a bytes.Buffer: cannot fail
		if cap(dst) <= 1<<20 {
			s.scratch = dst
		} else {
			s.scratch = nil // do not pin the largest event ever seen
		}
	} else {
		b.buf = dst
	}
	b.items = append(b.items, it)
	s.pendingBytes += need
	s.pendingEvts++
	s.st.queued.Add(1)
	if b.rawLen >= s.cfg.FlushBytes || len(b.items) >= s.cfg.FlushEvents {
		s.cutLocked()
	}
	s.mu.Unlock()
	s.st.accepted.Add(1)
	return nil
}

// waitForSpaceLocked blocks (s.mu held, released while waiting) until need
// bytes and one event fit, the wait times out or the sink closes.
func (s *Sink) waitForSpaceLocked(need int64) error {
	fits := func() bool {
		return s.pendingBytes+need <= s.cfg.MaxQueueBytes && s.pendingEvts+1 <= int64(s.cfg.MaxQueueEvents)
	}
	var timer *time.Timer
	var timeout <-chan time.Time
	if !s.cfg.BlockWhenFull {
		if s.cfg.QueueFullTimeout < 0 {
			return s.dropLocked()
		}
		timer = time.NewTimer(s.cfg.QueueFullTimeout)
		defer timer.Stop()
		timeout = timer.C
	}
	for !fits() {
		ch := s.spaceCh
		s.spaceWaiters++
		s.mu.Unlock()
		timedOut := false
		select {
		case <-ch:
		case <-timeout:
			timedOut = true
		case <-s.closedCh:
		}
		s.mu.Lock()
		s.spaceWaiters--
		if s.closed {
			return sink.ErrClosed
		}
		if timedOut && !fits() {
			return s.dropLocked()
		}
	}
	return nil
}

// dropLocked counts a dropped event; the ticker and Close report drops to
// OnError (aggregated, so a flood of drops cannot flood the hook).
func (s *Sink) dropLocked() error {
	s.st.dropped.Add(1)
	s.dropMu.Lock()
	s.dropUnreport++
	s.dropMu.Unlock()
	return ErrQueueFull
}

// reportDrops reports drops not yet reported (called by the ticker and Close).
func (s *Sink) reportDrops() {
	s.dropMu.Lock()
	n := s.dropUnreport
	s.dropUnreport = 0
	s.dropMu.Unlock()
	if n > 0 {
		s.onError(fmt.Errorf("%w: %d event(s) dropped (queue bound %d bytes / %d events)", ErrQueueFull, n, s.cfg.MaxQueueBytes, s.cfg.MaxQueueEvents))
	}
}

// cutLocked moves the active batch to the work queue.
func (s *Sink) cutLocked() {
	b := s.active
	if b == nil || len(b.items) == 0 {
		return
	}
	s.active = nil
	if b.z != nil {
		_ = s.gz.Close() // completes the gzip body in b.z
		if c := b.z.Cap(); c >= 64<<10 && b.z.Len() < c/4 {
			// as below: queue a tight copy, keep the big buffer
			big := b.z
			b.z = bytes.NewBuffer(append(make([]byte, 0, big.Len()), big.Bytes()...))
			big.Reset()
			zbufPool.Put(big)
		}
	}
	if c := cap(b.buf); b.z == nil && c >= 64<<10 && len(b.buf) < c/4 {
		// A batch cut early (interval, Flush) must not pin a full-size
		// buffer while it waits: the queue bound counts bytes used. Keep
		// the big buffer for the next batch and queue a tight copy.
		big := b.buf
		b.buf = append(make([]byte, 0, len(big)), big...)
		if cap(s.spare) < cap(big) {
			s.spare = big[:0]
		}
	}
	s.epochPending[s.epoch] += int64(len(b.items))
	s.queue = append(s.queue, b)
	s.workCond.Signal()
}

// resolve releases items that reached a final state.
func (s *Sink) resolve(items []esItem) {
	if len(items) == 0 {
		return
	}
	var bytes int64
	s.mu.Lock()
	ep, n := items[0].epoch, int64(0)
	for i := range items {
		bytes += items[i].size()
		if items[i].epoch != ep {
			s.epochDoneLocked(ep, n)
			ep, n = items[i].epoch, 0
		}
		n++
	}
	s.epochDoneLocked(ep, n)
	s.pendingBytes -= bytes
	s.pendingEvts -= int64(len(items))
	if s.spaceWaiters > 0 {
		close(s.spaceCh)
		s.spaceCh = make(chan struct{})
	}
	s.mu.Unlock()
}

func (s *Sink) epochDoneLocked(ep uint64, n int64) {
	left := s.epochPending[ep] - n
	if left > 0 {
		s.epochPending[ep] = left
		return
	}
	delete(s.epochPending, ep)
	if s.drainWaiters > 0 {
		close(s.drainCh)
		s.drainCh = make(chan struct{})
	}
}

func (s *Sink) drainedLocked(upTo uint64) bool {
	for ep := range s.epochPending {
		if ep <= upTo {
			return false
		}
	}
	return true
}

// Flush sends the current batch and waits until every event written before
// the call was indexed, found duplicate or dead-lettered, or ctx ends. Events
// still undelivered when ctx ends stay queued (they are not dead-lettered:
// the sink keeps trying; Close dead-letters).
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return sink.ErrClosed
	}
	s.cutLocked()
	upTo := s.epoch
	s.epoch++
	err := s.waitDrainedLocked(ctx, upTo)
	s.mu.Unlock()
	return err
}

func (s *Sink) waitDrainedLocked(ctx context.Context, upTo uint64) error {
	for !s.drainedLocked(upTo) {
		ch := s.drainCh
		s.drainWaiters++
		s.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		s.mu.Lock()
		s.drainWaiters--
		if err != nil {
			return fmt.Errorf("sink: elasticsearch: flush: %w", err)
		}
	}
	return nil
}

// Close stops accepting events, delivers what is queued until ctx ends, then
// cancels what is in flight and dead-letters everything still undelivered.
// It stops every goroutine of the sink before returning. It returns an error
// when events had to be dead-lettered at close or dropped.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.isClosed.Store(true)
	close(s.closedCh)
	s.cutLocked()
	s.stopping = true
	s.workCond.Broadcast()
	s.mu.Unlock()
	s.ticker.Wait()

	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	var errs []error
	select {
	case <-done:
	case <-ctx.Done():
		s.abort() // cancels requests and backoffs; workers dead-letter the rest
		<-done
		errs = append(errs, fmt.Errorf("sink: elasticsearch: close: %w", ctx.Err()))
	}
	s.abort()
	s.reportDrops()
	if n := s.st.closeDead.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("sink: elasticsearch: %d event(s) dead-lettered during close", n))
	}
	if n := s.st.dropped.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("sink: elasticsearch: %d event(s) dropped since start", n))
	}
	if s.ownDL {
		if err := s.dl.Close(context.Background()); err != nil {
			errs = append(errs, err)
		}
	} else if err := s.dl.Flush(ctx); err != nil && !errors.Is(err, sink.ErrClosed) {
		errs = append(errs, fmt.Errorf("sink: elasticsearch: dead letter flush: %w", err))
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = s.client.Close(cctx)
	cancel()
	return s.redact(errors.Join(errs...))
}

// tick cuts the active batch every FlushInterval and reports drops.
func (s *Sink) tick() {
	defer s.ticker.Done()
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closedCh:
			return
		case <-t.C:
			s.mu.Lock()
			s.cutLocked()
			s.mu.Unlock()
			s.reportDrops()
		}
	}
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	qb := s.pendingBytes
	s.mu.Unlock()
	return Stats{
		Queued:           s.st.queued.Load(),
		QueuedBytes:      qb,
		InFlight:         s.st.inFlight.Load(),
		Accepted:         s.st.accepted.Load(),
		Indexed:          s.st.indexed.Load(),
		Duplicates:       s.st.dups.Load(),
		Retried:          s.st.retried.Load(),
		DeadLettered:     s.st.dead.Load(),
		DeadLetterFailed: s.st.deadFailed.Load(),
		Dropped:          s.st.dropped.Load(),
		Rejected:         s.st.rejected.Load(),
		Requests:         s.st.requests.Load(),
		RequestErrors:    s.st.reqErrors.Load(),
		BytesRaw:         s.st.bytesRaw.Load(),
		BytesSent:        s.st.bytesSent.Load(),
		LatencyTotal:     time.Duration(s.st.latTotal.Load()),
		LatencyMax:       time.Duration(s.st.latMax.Load()),
	}
}

// String renders the stats on one line (never contains credentials).
func (st Stats) String() string {
	avg := time.Duration(0)
	if st.Requests > 0 {
		avg = st.LatencyTotal / time.Duration(st.Requests)
	}
	return fmt.Sprintf("queued=%d queued_bytes=%d in_flight=%d accepted=%d indexed=%d duplicates=%d retried=%d dead_lettered=%d dead_letter_failed=%d dropped=%d rejected=%d requests=%d request_errors=%d bytes_raw=%d bytes_sent=%d latency_avg=%s latency_max=%s",
		st.Queued, st.QueuedBytes, st.InFlight, st.Accepted, st.Indexed, st.Duplicates, st.Retried, st.DeadLettered, st.DeadLetterFailed, st.Dropped, st.Rejected, st.Requests, st.RequestErrors, st.BytesRaw, st.BytesSent, avg, st.LatencyMax)
}

func urlPassword(u *url.URL) string { pw, _ := u.User.Password(); return pw }

// collectSecrets lists every credential string that must never be printed.
func collectSecrets(cfg Config) []string {
	var out []string
	add := func(v string) {
		if len(v) >= 3 {
			out = append(out, v)
		}
	}
	add(cfg.Password)
	add(cfg.APIKey)
	add(cfg.ServiceToken)
	if cfg.Username != "" || cfg.Password != "" {
		add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
	for _, a := range cfg.Addresses {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
				add(url.QueryEscape(p))
				add(url.PathEscape(p))
			}
			add(u.User.String())
			add(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + urlPassword(u))))
		}
	}
	for k, vs := range cfg.Header {
		switch strings.ToLower(k) {
		case "authorization", "x-api-key", "cookie":
			for _, v := range vs {
				add(v)
				if _, rest, ok := strings.Cut(v, " "); ok {
					add(rest)
				}
			}
		}
	}
	return out
}

type redactedError struct {
	msg  string
	kind error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.kind }

// redact returns err with every credential replaced by "[REDACTED]". The
// result still matches ErrQueueFull, ErrInvalidLine, sink.ErrClosed and context
// errors with errors.Is.
func (s *Sink) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, sec := range s.secrets {
		if strings.Contains(msg, sec) {
			msg = strings.ReplaceAll(msg, sec, "[REDACTED]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	var kind error
	for _, k := range []error{ErrQueueFull, ErrInvalidLine, sink.ErrClosed, context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	return &redactedError{msg: msg, kind: kind}
}

func (s *Sink) report(err error) {
	s.onError(s.redact(err))
}
