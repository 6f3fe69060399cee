package kafka

import (
	"encoding/json"
	"slices"
	"unsafe"

	logctx "github.com/pipelog/pipelog/context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// traceInfo is what a record's key and headers are made of, read from the
// line (scan) or given by the Logger (sink.Entry): raw field contents, nil
// when absent.
type traceInfo struct {
	key   []byte // nil: a null key
	trace []byte // trace.id
	span  []byte // span.id
	corr  []byte // labels.correlation_id
}

// scan reads ti from line, the key from KeyField unless id is not nil.
func (ti *traceInfo) scan(line, id []byte, fs *fieldSet) {
	var f found
	find(line, fs, &f)
	ti.key = id
	if ti.key == nil {
		ti.key = keyBytes(f[fKey])
	}
	ti.trace, ti.span, ti.corr = plainString(f[fTraceID]), plainString(f[fSpanID]), plainString(f[fCorrelation])
}

// fill sets the record's value, key and headers from line and ti.
func (r *rec) fill(line []byte, ti *traceInfo) {
	key := ti.key
	// One allocation at most: the value, the key, the traceparent (55
	// bytes) and a correlation ID (at most 128).
	buf := slices.Grow(r.buf[:0], len(line)+len(key)+55+min(len(ti.corr), 130))
	buf = append(buf, line...)
	nv := len(buf)
	var nk int
	if key != nil {
		buf = append(buf, key...)
		nk = len(buf)
	}
	// traceparent "00-<trace-id>-<span-id>-00": the line does not carry
	// the sampled flag. Only well-formed IDs are copied.
	trace, span := ti.trace, ti.span
	var ntp, ntpEnd int
	traceOK := isLowerHex(trace, 32)
	if traceOK && isLowerHex(span, 16) {
		ntp = len(buf)
		buf = append(buf, "00-"...)
		buf = append(buf, trace...)
		buf = append(buf, '-')
		buf = append(buf, span...)
		buf = append(buf, "-00"...)
		ntpEnd = len(buf)
	}
	corr := ti.corr
	if !validCorrelation(corr) {
		corr = nil
	}
	if corr == nil && traceOK {
		corr = trace
	}
	nc := len(buf)
	buf = append(buf, corr...)
	r.buf = buf

	r.r = kgo.Record{Value: buf[:nv:nv], Headers: r.hdr[:0]}
	if key != nil {
		r.r.Key = buf[nv:nk:nk]
	}
	if ntpEnd > 0 {
		r.hdr[0] = kgo.RecordHeader{Key: HeaderTraceparent, Value: buf[ntp:ntpEnd:ntpEnd]}
		r.r.Headers = r.hdr[:1]
	}
	if len(corr) > 0 {
		r.r.Headers = append(r.r.Headers, kgo.RecordHeader{Key: HeaderCorrelationID, Value: buf[nc:len(buf):len(buf)]})
	}
	r.size = int64(len(buf)) + 64 // the record's overhead in the batch, roughly
	r.attempts = 1
}

// keyBytes is the key for raw, the JSON value of KeyField: a string's
// contents, a number or boolean as written, nil for null or absent.
func keyBytes(raw []byte) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '"' {
		return raw
	}
	if s := plainString(raw); s != nil {
		return s
	}
	var str string
	if json.Unmarshal(raw, &str) != nil {
		return nil
	}
	return []byte(str)
}

func isLowerHex(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	zero := true
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
		zero = zero && c == '0'
	}
	return !zero
}

// validCorrelation: what logctx accepts as a correlation ID (logctx.ValidID),
// so that the consumer's Extract keeps it.
func validCorrelation(b []byte) bool {
	return len(b) > 0 && logctx.ValidID(unsafe.String(unsafe.SliceData(b), len(b)))
}
