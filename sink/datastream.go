package sink

// DataStreamer is a Sink that writes to one Elasticsearch data stream
// (the Elasticsearch sink): DataStream returns its name,
// "logs-orders_etl-default", or "" when it writes to a plain index. A
// Logger configured for a data stream checks its sinks against it.
type DataStreamer interface {
	Sink
	DataStream() string
}

// Unwrap returns the members of a Multi.
func (m *multiSink) Unwrap() []Sink { return m.sinks }

// Flatten returns sinks and every sink they wrap, at any depth: the
// members of Multi, the sink inside MinLevel, and whatever a sink with an
// Unwrap() Sink or Unwrap() []Sink method wraps.
func Flatten(sinks ...Sink) []Sink {
	var out []Sink
	var walk func(s Sink, depth int)
	walk = func(s Sink, depth int) {
		if s == nil || depth > 32 {
			return
		}
		out = append(out, s)
		switch w := s.(type) {
		case interface{ Unwrap() Sink }:
			walk(w.Unwrap(), depth+1)
		case interface{ Unwrap() []Sink }:
			for _, m := range w.Unwrap() {
				walk(m, depth+1)
			}
		}
	}
	for _, s := range sinks {
		walk(s, 0)
	}
	return out
}
