package elasticsearch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"

	"github.com/pipelog/pipelog/internal/diskqueue"
	"github.com/pipelog/pipelog/sink"
)

var (
	_ sink.Sink = (*Sink)(nil)
	_ sink.Sink = (*sink.DeadLetterFile)(nil)
)

// Sink is an asynchronous bulk sink into an Elasticsearch data
// stream (or any server speaking the _bulk protocol).
type Sink struct {
	cfg          Config
	client       *elastictransport.Client
	productOK    atomic.Bool     // a 2xx answer had X-Elastic-Product: Elasticsearch
	ownTransport *http.Transport // made by New, its idle connections closed by Close
	bulkURL      string
	header       http.Header
	index        string
	idPrefix     string
	actionPre    []byte // `{"create":{"_index":"<index>","_id":"`
	secrets      []string
	dl           sink.Sink
	ownDL        bool
	onError      func(error)

	mu           sync.Mutex
	active       *esBatch
	chunk        []byte      // the active batch's lines not yet assembled
	chunks       chan chunk  // to the assembler
	freeChunks   chan []byte // from the assembler, to reuse while in cache
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
	closedCh     chan struct{}

	qmu      sync.Mutex // the work queue, apart: the assembler fills it without s.mu
	workCond *sync.Cond
	queue    []*esBatch
	stopping bool

	abortCtx  context.Context
	abort     context.CancelFunc
	workers   sync.WaitGroup
	ticker    sync.WaitGroup
	assembler sync.WaitGroup
	idCounter atomic.Uint64

	dq          *diskqueue.Queue // Config.QueueDir's, or nil
	dqRecovery  diskqueue.Recovery
	dqBroken    atomic.Bool
	pumpStop    chan struct{} // closed (under mu) to stop the pump
	pumpStopped bool
	pumpCtx     context.Context
	pumpCancel  context.CancelFunc
	pumpWG      sync.WaitGroup
	haltV       atomic.Pointer[error] // the permanent failure the sink is in
	failStreak  atomic.Int64          // whole-request failures since the last success

	dropMu       sync.Mutex
	dropUnreport int64

	st struct {
		queued, inFlight, accepted, indexed, dups, retried, dead, deadFailed,
		dropped, rejected, requests, reqErrors, bytesRaw, bytesSent,
		latTotal, latMax, closeDead, leftOnDisk atomic.Int64
	}
}

// New returns a running sink. It does not contact the server:
// an unreachable cluster delays delivery, never construction.
func New(cfg Config) (*Sink, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, epochPending: map[uint64]int64{}}
	s.secrets = collectSecrets(cfg)

	client, tr, err := newClient(&cfg)
	if err != nil {
		return nil, s.redact(fmt.Errorf("sink: elasticsearch: %w", err))
	}
	s.client = client
	if cfg.Transport == nil {
		s.ownTransport, _ = tr.(*http.Transport)
	}

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

	s.dl, s.ownDL = sink.DeadLetterOr(cfg.DeadLetter, cfg.DeadLetterPath)
	s.onError = sink.ReportOr(cfg.OnError)

	if cfg.QueueDir != "" {
		if err := s.openDisk(); err != nil {
			if s.ownDL {
				_ = s.dl.Close(context.Background())
			}
			return nil, fmt.Errorf("sink: elasticsearch: disk queue: %w", err)
		}
	}
	s.workCond = sync.NewCond(&s.qmu)
	s.spaceCh = make(chan struct{})
	s.drainCh = make(chan struct{})
	s.closedCh = make(chan struct{})
	s.abortCtx, s.abort = context.WithCancel(context.Background())

	s.chunks = make(chan chunk, chunkQueue)
	s.freeChunks = make(chan []byte, chunkQueue+2)
	s.chunk = make([]byte, 0, chunkSize+chunkSize/8)

	// Every field is set before the first goroutine starts.
	s.assembler.Add(1)
	go s.assemble()
	s.workers.Add(cfg.Workers)
	for range cfg.Workers {
		go s.worker()
	}
	s.ticker.Add(1)
	go s.tick()
	if s.dq != nil {
		s.pumpWG.Add(1)
		go s.pump()
	}
	return s, nil
}

// Index is the data stream (or index) the sink writes to.
func (s *Sink) Index() string { return s.index }
