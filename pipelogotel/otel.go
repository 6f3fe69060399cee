// Package pipelogotel reports a pipelog Logger's counters, and its sinks',
// as OpenTelemetry metrics (go.opentelemetry.io/otel/metric). It is a
// package of its own so that a program that does not import it links no
// OpenTelemetry metric code; esmetrics, below it, adds the Elasticsearch
// sink's counters.
//
// Every instrument is asynchronous (observable): Register adds one
// callback that reads the counters when the MeterProvider collects, so
// emitting costs nothing more. Counters are cumulative since the Logger
// was made.
//
// # Names
//
// The OpenTelemetry semantic conventions reserve otel.* for the SDK's own
// components, so pipelog uses its own namespace with the shape of the SDK's
// log pipeline metrics (otel.sdk.processor.log.processed,
// otel.sdk.exporter.log.exported, ….inflight, …queue.size): one counter per
// outcome family, units in UCUM ({log_record}, By, s), and the outcome of a
// failure in the error.type attribute, absent for success.
//
//	pipelog.log.processed         counter {log_record}  events the Logger finished with:
//	                              no error.type: written by at least one sink;
//	                              error.type=sink_failed: refused by every sink;
//	                              error.type=closed: emitted after Close;
//	                              error.type=sampled: dropped by sampling
//	pipelog.log.errors            counter {error}       problems reported to OnError (Stats.Errors)
//	pipelog.sink.write_errors     counter {error}       failed or panicking sink writes (Stats.SinkErrors)
//	pipelog.enricher.panics       counter {panic}       enricher calls that panicked
//	pipelog.sink.log.undelivered  counter {log_record}  per sink (pipelog.sink.name), what it accepted and did
//	                              not deliver (sink.Losses): error.type=dropped, dead_lettered or lost
//
// Exporters (asynchronous sinks such as the Elasticsearch sink: see
// RegisterExporter and esmetrics):
//
//	pipelog.exporter.log.exported    counter {log_record}      finished events: no error.type: delivered
//	                                 (duplicates included); error.type=dead_lettered, dead_letter_failed,
//	                                 queue_full, invalid
//	pipelog.exporter.log.inflight    updowncounter {log_record} in a request being sent
//	pipelog.exporter.log.retried     counter {log_record}       re-sends
//	pipelog.exporter.queue.size      updowncounter {log_record} accepted, not yet in a request
//	pipelog.exporter.queue.bytes     updowncounter By           bytes of everything unresolved
//	pipelog.exporter.requests        counter {request}          no error.type: succeeded; error.type=failed
//	pipelog.exporter.request.time    counter s                  time spent in requests (divide by requests for the mean)
//	pipelog.exporter.bytes           counter By                 request bytes: pipelog.compressed=false before
//	                                 compression, true as sent
//
// Exporter instruments carry pipelog.exporter.name. A Config.Name adds
// pipelog.logger.name to every instrument, for processes with several
// Loggers. Resource attributes (service.name, …) are the MeterProvider's.
package pipelogotel

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/core"
	"github.com/pipelog/pipelog/sink"
)

// Config says how the series of one Logger are told apart.
type Config struct {
	// Name, when set, is the pipelog.logger.name attribute of every
	// instrument.
	Name string
	// SinkNames name the Logger's sinks (pipelog.sink.name), in
	// Config.Sinks order. A sink without a name is called by its index and
	// type ("0:*sink.File").
	SinkNames []string
}

// Attribute keys.
const (
	KeyErrorType    = attribute.Key("error.type")
	KeyLoggerName   = attribute.Key("pipelog.logger.name")
	KeySinkName     = attribute.Key("pipelog.sink.name")
	KeyExporterName = attribute.Key("pipelog.exporter.name")
	KeyCompressed   = attribute.Key("pipelog.compressed")
)

const unitRecords = "{log_record}"

// Register creates the Logger's instruments on meter and a callback that
// observes them; Unregister the result to stop. A nil Logger is an error.
func Register(meter metric.Meter, log *pipelog.Logger, cfg Config) (metric.Registration, error) {
	h := core.LoggerHandle(log)
	if h == nil {
		return nil, fmt.Errorf("pipelogotel: Register: nil Logger")
	}
	var b builder
	b.meter = meter
	processed := b.counter("pipelog.log.processed", unitRecords, "Events the Logger finished with; error.type says why one was not written.")
	errs := b.counter("pipelog.log.errors", "{error}", "Problems the Logger reported to its OnError (sink failures, encoding problems, enricher panics).")
	sinkErrs := b.counter("pipelog.sink.write_errors", "{error}", "Sink writes that failed or panicked.")
	panics := b.counter("pipelog.enricher.panics", "{panic}", "Enricher calls that panicked (their labels were left out).")
	lost := b.counter("pipelog.sink.log.undelivered", unitRecords, "Events a sink accepted and did not deliver; error.type: dropped, dead_lettered or lost.")
	if b.err != nil {
		return nil, b.err
	}
	base := attrs(KeyLoggerName, cfg.Name)
	sinks := h.C.Sinks()
	sinkAttrs := make([][]attribute.KeyValue, len(sinks))
	for i, s := range sinks {
		name := fmt.Sprintf("%d:%T", i, s)
		if i < len(cfg.SinkNames) && cfg.SinkNames[i] != "" {
			name = cfg.SinkNames[i]
		}
		sinkAttrs[i] = append(append([]attribute.KeyValue(nil), base...), KeySinkName.String(name))
	}
	o := outcomes{base: base}
	return meter.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		st := log.Stats()
		o.observe(ob, processed, st.Written, "")
		o.observe(ob, processed, st.Failed, "sink_failed")
		o.observe(ob, processed, st.Dropped, "closed")
		o.observe(ob, processed, st.Sampled, "sampled")
		o.observe(ob, errs, st.Errors, "")
		o.observe(ob, sinkErrs, st.SinkErrors, "")
		o.observe(ob, panics, st.EnricherPanics, "")
		for i, s := range sinks {
			l := sink.LossesOf(s)
			so := outcomes{base: sinkAttrs[i]}
			so.observe(ob, lost, l.Dropped, "dropped")
			so.observe(ob, lost, l.DeadLettered, "dead_lettered")
			so.observe(ob, lost, l.Undelivered, "lost")
		}
		return nil
	}, b.observables...)
}

// builder creates instruments, keeping the first error.
type builder struct {
	meter       metric.Meter
	observables []metric.Observable
	err         error
}

func (b *builder) counter(name, unit, desc string) metric.Int64ObservableCounter {
	c, err := b.meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.add(c, name, err)
	return c
}

func (b *builder) upDown(name, unit, desc string) metric.Int64ObservableUpDownCounter {
	c, err := b.meter.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.add(c, name, err)
	return c
}

func (b *builder) floatCounter(name, unit, desc string) metric.Float64ObservableCounter {
	c, err := b.meter.Float64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.add(c, name, err)
	return c
}

func (b *builder) add(o metric.Observable, name string, err error) {
	if err != nil {
		if b.err == nil {
			b.err = fmt.Errorf("pipelogotel: instrument %s: %w", name, err)
		}
		return
	}
	b.observables = append(b.observables, o)
}

// outcomes observes counters with the base attributes plus, for a failure,
// error.type. The attribute sets are built per collection (a few a
// second at most), not per event.
type outcomes struct{ base []attribute.KeyValue }

func (o outcomes) observe(ob metric.Observer, c metric.Int64Observable, v uint64, errorType string) {
	kv := o.base
	if errorType != "" {
		kv = append(kv[:len(kv):len(kv)], KeyErrorType.String(errorType))
	}
	ob.ObserveInt64(c, clamp(v), metric.WithAttributes(kv...))
}

// clamp turns a uint64 counter into the int64 OpenTelemetry takes.
func clamp(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}

func attrs(k attribute.Key, v string) []attribute.KeyValue {
	if v == "" {
		return nil
	}
	return []attribute.KeyValue{k.String(v)}
}
