// Package logkafka carries pipelog's trace context across Kafka: a
// logctx.Carrier over the headers of a franz-go record
// (github.com/twmb/franz-go/pkg/kgo), and Inject and Extract for records.
//
// A producer stamps each record with the trace of the code that sends it:
//
//	rec := &kgo.Record{Topic: "orders", Value: body}
//	logkafka.Inject(ctx, rec) // traceparent, tracestate, X-Correlation-ID
//	client.Produce(ctx, rec, nil)
//
// and a consumer continues it, so the consumer's events share the
// producer's trace.id and name its span as their parent:
//
//	ctx := logkafka.Extract(ctx, rec)
//
// Extract validates the headers exactly as logctx.Extract and the HTTP
// middleware do: a repeated header with conflicting values, or a malformed
// one, starts a fresh trace instead of being copied. The records the
// sink/kafka sink produces carry the same headers.
//
// The package imports the standard library, package logctx (context/) and
// franz-go's kgo; it is separate from logctx so that a program that does
// not use Kafka does not compile franz-go.
package logkafka

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	logctx "github.com/pipelog/pipelog/context"
)

// Carrier adapts the headers of a record to logctx.Carrier. Get reads the
// last header of a key, matching it exactly first, then ignoring case;
// Set replaces every header of the key (exact match) with one.
type Carrier struct{ Record *kgo.Record }

var (
	_ logctx.Carrier      = Carrier{}
	_ logctx.ValuesGetter = Carrier{}
)

// Get implements logctx.Carrier.
func (c Carrier) Get(key string) string {
	if c.Record == nil {
		return ""
	}
	hs := c.Record.Headers
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return string(hs[i].Value)
		}
	}
	for i := len(hs) - 1; i >= 0; i-- {
		if strings.EqualFold(hs[i].Key, key) {
			return string(hs[i].Value)
		}
	}
	return ""
}

// Values implements logctx.ValuesGetter: every value of key, in order
// (matched as Get matches), so that Extract can refuse conflicting
// duplicates.
func (c Carrier) Values(key string) []string {
	if c.Record == nil {
		return nil
	}
	var exact, folded []string
	for _, h := range c.Record.Headers {
		switch {
		case h.Key == key:
			exact = append(exact, string(h.Value))
		case strings.EqualFold(h.Key, key):
			folded = append(folded, string(h.Value))
		}
	}
	if exact != nil {
		return exact
	}
	return folded
}

// Set implements logctx.Carrier.
func (c Carrier) Set(key, value string) {
	if c.Record == nil {
		return
	}
	hs := c.Record.Headers[:0:0]
	for _, h := range c.Record.Headers {
		if h.Key != key {
			hs = append(hs, h)
		}
	}
	c.Record.Headers = append(hs, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

// Keys implements logctx.Carrier.
func (c Carrier) Keys() []string {
	if c.Record == nil {
		return nil
	}
	keys := make([]string, 0, len(c.Record.Headers))
	seen := map[string]bool{}
	for _, h := range c.Record.Headers {
		if !seen[h.Key] {
			seen[h.Key] = true
			keys = append(keys, h.Key)
		}
	}
	return keys
}

// Inject writes the trace context of ctx into r's headers (see
// logctx.Inject).
func Inject(ctx context.Context, r *kgo.Record) { logctx.Inject(ctx, Carrier{r}) }

// Extract returns a copy of ctx continuing the trace in r's headers (see
// logctx.Extract).
func Extract(ctx context.Context, r *kgo.Record) context.Context {
	return logctx.Extract(ctx, Carrier{r})
}
