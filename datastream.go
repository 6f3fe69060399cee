package pipelog

import (
	"errors"
	"fmt"

	"github.com/pipelog/pipelog/internal/dsname"
	"github.com/pipelog/pipelog/internal/encode"
	"github.com/pipelog/pipelog/sink"
)

// DataStream names the Elasticsearch data stream a Logger's lines are
// meant for, "<Type>-<Dataset>-<Namespace>". With Config.DataStream set,
// every line carries data_stream.type, .dataset and .namespace, sanitised
// by the data stream naming rules exactly as the Elasticsearch sink
// sanitises its target (elasticsearch.DataStreamName): lower case, '-' and
// the other characters a name may not hold become '_'. Fill it in as the
// sink's Type, Dataset and Namespace are filled in, or as the index the
// shipper writes to is named: Elasticsearch maps these fields as
// constant_keyword, so an index rejects documents whose values differ from
// the first document's.
type DataStream struct {
	Type      string // default "logs"
	Dataset   string // default Config.Dataset, else Config.Service
	Namespace string // default "default"
}

// eventDataset is event.dataset: Config.Dataset, else the data stream's
// dataset, else the service name, sanitised like a data stream's dataset
// so that it equals data_stream.dataset (ECS asks for the same value).
func eventDataset(cfg *Config) string {
	d := cfg.Dataset
	if d == "" && cfg.DataStream != nil {
		d = cfg.DataStream.Dataset
	}
	if d == "" {
		d = cfg.Service
	}
	return dsname.Part(d, dsname.DefaultDataset)
}

// dataStreamFields are the data_stream.* fields of cfg (none without
// Config.DataStream), before Config.Fields, which may replace them. It
// fails when a sink writes to another data stream: every document would
// carry values its index refuses.
func dataStreamFields(cfg *Config, sinks []sink.Sink) ([]encode.Field, error) {
	ds := cfg.DataStream
	if ds == nil {
		return nil, nil
	}
	dataset := ds.Dataset
	if dataset == "" {
		dataset = cfg.Dataset
	}
	if dataset == "" {
		dataset = cfg.Service
	}
	typ := dsname.Part(ds.Type, dsname.DefaultType)
	dataset = dsname.Part(dataset, dsname.DefaultDataset)
	ns := dsname.Part(ds.Namespace, dsname.DefaultNamespace)
	name := typ + "-" + dataset + "-" + ns
	var errs []error
	for _, s := range sink.Flatten(sinks...) {
		if t, ok := s.(sink.DataStreamer); ok {
			if other := t.DataStream(); other != "" && other != name {
				errs = append(errs, fmt.Errorf("a sink (%T) writes to the data stream %s, but Config.DataStream is %s: its documents would carry data_stream values that index refuses", s, other, name))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return []encode.Field{{Key: "data_stream.type", Value: typ}, {Key: "data_stream.dataset", Value: dataset},
		{Key: "data_stream.namespace", Value: ns}}, nil
}
