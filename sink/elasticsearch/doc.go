// Package elasticsearch is an asynchronous bulk sink into an Elasticsearch
// data stream, or into any server that speaks the _bulk protocol
// (VictoriaLogs, for one). New(Config) returns a running *Sink; the zero
// Config sends to ELASTICSEARCH_URL or http://localhost:9200, data stream
// logs-generic-default.
//
// # What it promises
//
// While the process lives, no event the sink accepted is silently lost.
// Write and WriteEntry either accept an event (return nil) or say why not:
// ErrInvalidLine (the line is also dead-lettered), ErrQueueFull (dropped,
// counted in Stats.Dropped and reported to OnError) or sink.ErrClosed. An
// accepted event ends in exactly one of these states, each counted in Stats:
//
//   - indexed: the server answered 2xx for it, or 409 to the create of its
//     _id (an earlier attempt indexed it). The bulk _id is the event's
//     event.id, or one the sink mints, so a retry never indexes an event
//     twice.
//   - dead-lettered: written, with the reason, to Config.DeadLetter.
//   - lost and reported: the dead letter refused it too
//     (Stats.DeadLetterFailed, OnError).
//
// Retried without limit while the sink is open: network errors, request
// timeouts and whole-request 429, 502, 503 and 504 (an unreachable cluster
// fills the queue; the workers share one backoff, reset by a success).
// Retried MaxRetries times, then dead-lettered: per-item 429 and 5xx, and
// whole-request failures whose outcome is ambiguous (500, an unreadable
// response, an item count that does not match, a 2xx without the product
// header from a server whose GET / has it). Dead-lettered at once: per-item
// rejections (a mapping error), any other whole-request 4xx, a single
// event larger than the server takes (413; a larger batch is split in
// halves first, after a backoff), and permanent failures — TLS
// verification, 401, 403, 404, a server that is not Elasticsearch — which
// are reported once with what to fix (with a disk queue they stay on disk
// instead; permanent.go). Close dead-letters whatever is still undelivered
// when its context ends.
//
// Without Config.QueueDir a process that is killed loses what is queued in
// memory, at most MaxQueueBytes and MaxQueueEvents. With it, Write appends
// the event to a crash-safe disk queue (internal/diskqueue) before it
// returns (DiskSyncBatch), the queue records as delivered only what the
// server answered for, and a sink started on the directory re-sends the
// rest under the same _ids (disk.go); Close leaves there what it could not
// deliver instead of dead-lettering it.
//
// # Concurrency
//
// Every method is safe for concurrent use. Write and WriteEntry copy the
// event into the current batch under one mutex and return. The sink owns
// its goroutines, and Close stops every one before it returns: one
// assembles the batches (it compresses them), Config.Workers send them,
// one cuts a batch every FlushInterval. OnError and the dead letter are
// called from those goroutines (and from Write, for an invalid line),
// possibly at the same time: they must be safe for concurrent use.
//
// # What it costs
//
// No allocation per event. WriteEntry trusts the line a Logger encoded: it
// checks that the line is one {...} object on one line and copies it, with
// its bulk action line, into a small chunk that is still in the CPU cache
// when the assembler compresses it (gzip level 1 unless DisableCompression
// is set) in parallel with the caller.
// Write, for lines from elsewhere, first validates the line (exactly what
// encoding/json.Valid accepts, as one object on one line in valid UTF-8)
// and finds its event.id, in one pass several times faster than json.Valid.
// Queued batches hold only their compressed body; the queue bound counts
// the raw bytes. BENCHMARKS.md has the figures.
//
// # What it imports
//
// The standard library, package sink, internal/diskqueue,
// github.com/klauspost/compress/gzip
// and github.com/elastic/elastic-transport-go/v8 (the pool of nodes and
// their credentials) — not the go-elasticsearch client, whose typed API is
// some 860 packages.
package elasticsearch
