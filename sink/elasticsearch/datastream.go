package elasticsearch

import "github.com/pipelog/pipelog/sink"

var _ sink.DataStreamer = (*Sink)(nil)

// DataStream is the data stream the sink writes to, or "" when
// Config.Index names a plain index.
func (s *Sink) DataStream() string {
	if s.cfg.Index != "" {
		return ""
	}
	return s.index
}
