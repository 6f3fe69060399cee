// Package esmetrics reports the Elasticsearch sink's counters
// (elasticsearch.Stats) as OpenTelemetry metrics, with the exporter
// instruments of package pipelogotel. It is apart from pipelogotel so that
// a program reporting a Logger's metrics without the Elasticsearch sink
// does not link the Elasticsearch client.
package esmetrics

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/pipelog/pipelog/pipelogotel"
	"github.com/pipelog/pipelog/sink/elasticsearch"
)

// Register observes s's Stats on meter as the exporter named name (the
// pipelog.exporter.name attribute; "elasticsearch" when empty).
func Register(meter metric.Meter, name string, s *elasticsearch.Sink) (metric.Registration, error) {
	if name == "" {
		name = "elasticsearch"
	}
	return pipelogotel.RegisterExporter(meter, name, func() pipelogotel.ExporterStats { return Stats(s.Stats()) })
}

// Stats maps the Elasticsearch sink's Stats onto the exporter's: indexed
// and duplicate (409) events are delivered, rejected (invalid) lines are
// also dead-lettered by the sink and counted as invalid only.
func Stats(st elasticsearch.Stats) pipelogotel.ExporterStats {
	return pipelogotel.ExporterStats{
		Queued: st.Queued, QueuedBytes: st.QueuedBytes, InFlight: st.InFlight,
		Delivered:        st.Indexed + st.Duplicates,
		DeadLettered:     max(st.DeadLettered-st.Rejected, 0),
		DeadLetterFailed: st.DeadLetterFailed,
		Dropped:          st.Dropped,
		Invalid:          st.Rejected,
		Retried:          st.Retried,
		Requests:         st.Requests, RequestErrors: st.RequestErrors, RequestTime: st.LatencyTotal,
		BytesRaw: st.BytesRaw, BytesSent: st.BytesSent,
	}
}
