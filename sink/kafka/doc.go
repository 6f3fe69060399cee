// Package kafka is a sink that produces each event as one record to a
// Kafka topic, for pipelines where Kafka stands between services and
// Elasticsearch (Logstash, Elastic Agent or a consumer of one's own reads
// the topic). New(Config) returns a running *Sink; the zero Config produces
// to topic "logs" on KAFKA_BROKERS or localhost:9092.
//
// # The record
//
// The value is the ECS line as the Logger encoded it, without its '\n'.
// The key is the event's event.id, or the value of Config.KeyField (a
// dotted path such as "labels.tenant"), so that events with the same key go
// to one partition, in order. Two headers carry the trace across: a W3C
// traceparent "00-<trace.id>-<span.id>-00" when the line has both IDs (the
// line does not record the sampled flag), and X-Correlation-ID: the line's
// labels.correlation_id, or its trace.id. A consumer continues the trace
// with package context/logkafka.
//
// # What it promises
//
// While the process lives, no event the sink accepted is silently lost,
// and none is written twice. Write and WriteEntry either accept an event
// (return nil) or say why not: ErrInvalidLine (the line is also
// dead-lettered), ErrQueueFull (dropped, counted, reported) or
// sink.ErrClosed. An accepted event ends in exactly one of these states,
// each counted in Stats:
//
//   - delivered: acknowledged by all in-sync replicas. The producer is
//     franz-go's idempotent producer: a retried batch is not written
//     twice, and the records of one partition arrive in the order they
//     were written.
//   - dead-lettered: written, with the reason, to Config.DeadLetter.
//   - lost and reported: the dead letter refused it too
//     (Stats.DeadLetterFailed, OnError).
//
// The retry rules are the Elasticsearch sink's. Retried without limit
// while the sink is open, by franz-go, in order: a broker that is down or
// restarting, a leader that moved, a request that timed out (an
// unreachable cluster fills the queue, which then drops or, with
// BlockWhenFull, blocks). Retried
// MaxRetries times by the sink, then dead-lettered: a record franz-go gave
// up on with a retriable error, such as a topic that stays unknown; such a
// re-sent record may land after records written later. Dead-lettered at
// once: a record larger than MaxBatchBytes (never sent) and any
// non-retriable error from the broker (the record's Kafka error name is the
// dead letter's error.type). Close dead-letters whatever is still
// undelivered when its context ends. A process that is killed loses what
// is queued in memory, at most MaxQueueBytes and MaxQueueEvents.
//
// # Concurrency
//
// Every method is safe for concurrent use. Write copies the line into a
// pooled record and hands it to franz-go, which batches (Linger,
// MaxBatchBytes), compresses and sends it from its own goroutines; Close
// stops them all before it returns. OnError and the dead letter are called
// from franz-go's promise goroutine and from retry timers, possibly at the
// same time.
//
// # What it imports
//
// The standard library, package sink and github.com/twmb/franz-go (kgo,
// kerr, sasl). A program that does not import this package does not
// compile franz-go.
package kafka
