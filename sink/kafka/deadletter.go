package kafka

import (
	"encoding/json"
	"fmt"
	"time"
)

// deadLine is one dead-letter line.
type deadLine struct {
	Timestamp string          `json:"@timestamp"`
	Error     deadError       `json:"error"`
	Topic     string          `json:"topic"`
	Key       string          `json:"key,omitempty"`
	Attempts  int             `json:"attempts"`
	Document  json.RawMessage `json:"document,omitempty"`
	Raw       string          `json:"document_raw,omitempty"`
}

type deadError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// deadLetter writes r to the dead letter and resolves it.
func (s *Sink) deadLetter(r *rec, typ, reason string) {
	d := deadLine{
		Timestamp: time.Now().UTC().Format(time.RFC3339Nano),
		Error:     deadError{Type: typ, Reason: reason},
		Topic:     s.cfg.Topic,
		Key:       string(r.r.Key),
		Attempts:  r.attempts,
		Document:  r.r.Value,
	}
	s.writeDead(&d, fmt.Sprintf("%s: %s", typ, reason))
	s.release(r)
}

// deadLetterRaw dead-letters a line Write refused (never queued).
func (s *Sink) deadLetterRaw(line []byte) {
	d := deadLine{
		Timestamp: time.Now().UTC().Format(time.RFC3339Nano),
		Error:     deadError{Type: dlInvalidLine, Reason: "not one JSON object"},
		Topic:     s.cfg.Topic,
		Raw:       string(line),
	}
	s.writeDead(&d, "invalid line")
}

func (s *Sink) writeDead(d *deadLine, why string) {
	out, err := json.Marshal(d)
	if err != nil && d.Document != nil { // a trusted line that was not JSON after all
		d.Raw, d.Document = string(d.Document), nil
		out, err = json.Marshal(d)
	}
	if err == nil {
		err = s.dl.Write(append(out, '\n'))
	}
	if err != nil {
		s.st.deadFailed.Add(1)
		s.report(fmt.Errorf("sink: kafka: event LOST: the dead letter refused it: %w (it was dead-lettered for %s)", err, why))
		return
	}
	s.st.dead.Add(1)
	s.report(fmt.Errorf("sink: kafka: event dead-lettered: %s", why))
}
