package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"math"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/pipelog/pipelog"

	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/dsname"
	"github.com/pipelog/pipelog/sink"
)

// The floor: OrderRejected written by hand, the way a careful engineer
// writes an encoder for one event type. It writes exactly pipelog's
// document for that event (same keys, same order, same values; checked
// byte for byte by TestFloorMatchesPipelog) and does the work that document
// needs: time.Now and @timestamp (UTC, six fraction digits, the formatted
// second cached as pipelog caches it), an event.id minted as pipelog mints
// it, the context read with logctx.From, every string escaped so that any
// input gives valid JSON, floats formatted as pipelog formats them, the
// error's message and type, and one locked Write per line on a sink.Writer.
// It has none of pipelog's generality: no reflection, no compiled plan, no
// fixed fields, no adapters, no caller, no counters, no recovery from a
// panicking Error method.
//
// What it does not write, because the benchmark's inputs never carry it:
// labels (from the context, or labels.correlation_id when the correlation ID
// and the trace ID differ), and error.type of wrapped errors (pipelog walks
// past fmt.Errorf's %w and errors.Join; the floor names the error's own
// type, and looks for a stack trace on the error itself only).
type floorLogger struct {
	level atomic.Int32
	now   func() time.Time
	w     *sink.Writer
	max   int // strings longer than this are cut, as pipelog cuts them

	service []byte // `,"service":{…}`
	dataset []byte // `,"dataset":"…"`
	host    []byte // `},"host":{"hostname":"…"},"process":{"pid":…`

	ids    floorIDs
	second atomic.Pointer[floorSecond]
}

// floorConfig is the subset of pipelog.Config the floor understands.
type floorConfig struct {
	Service, Version, Environment, Hostname string
	Level                                   event.Level
	Now                                     func() time.Time
	Sink                                    *sink.Writer
}

// floorMaxString is pipelog's default Config.MaxStringBytes.
const floorMaxString = pipelog.DefaultMaxStringBytes

func newFloor(cfg floorConfig) *floorLogger {
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &floorLogger{now: cfg.Now, w: cfg.Sink, max: floorMaxString}
	f.level.Store(int32(cfg.Level))
	f.ids.init()

	svc := append([]byte(nil), `,"service":{"name":`...)
	svc = f.appendString(svc, cfg.Service)
	if cfg.Version != "" {
		svc = f.appendString(append(svc, `,"version":`...), cfg.Version)
	}
	if cfg.Environment != "" {
		svc = f.appendString(append(svc, `,"environment":`...), cfg.Environment)
	}
	f.service = append(svc, '}')
	f.dataset = f.appendString(append([]byte(nil), `,"dataset":`...), dsname.Part(cfg.Service, dsname.DefaultDataset)) // as pipelog derives it
	host := append([]byte(nil), `},"host":{"hostname":`...)
	host = f.appendString(host, cfg.Hostname)
	host = append(host, `},"process":{"pid":`...)
	f.host = strconv.AppendInt(host, int64(os.Getpid()), 10)
	return f
}

var floorBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// emit writes ev, read in place, if its level is enabled.
func (f *floorLogger) emit(ctx context.Context, ev *OrderRejected) {
	if ev.Level < event.Level(f.level.Load()) {
		return
	}
	bp := floorBufs.Get().(*[]byte)
	b := f.appendOrderRejected(ctx, (*bp)[:0], ev)
	_ = f.w.Write(b)
	if cap(b) <= 64<<10 { // a huge line's buffer is not kept, as pipelog does not keep it
		*bp = b
		floorBufs.Put(bp)
	}
}

func (f *floorLogger) appendOrderRejected(ctx context.Context, b []byte, ev *OrderRejected) []byte {
	v := logctx.From(ctx)

	b = append(b, `{"@timestamp":`...)
	b = f.appendNow(b, f.now())
	b = append(b, `,"log.level":`...)
	switch ev.Level {
	case event.LevelDebug:
		b = append(b, `"debug"`...)
	case event.LevelInfo:
		b = append(b, `"info"`...)
	case event.LevelWarn:
		b = append(b, `"warn"`...)
	case event.LevelError:
		b = append(b, `"error"`...)
	default:
		b = f.appendString(b, ev.Level.String())
	}
	b = append(b, `,"message":`...)
	if ev.Message != "" {
		b = f.appendString(b, ev.Message)
	} else {
		b = append(b, `"OrderRejected"`...)
	}
	b = append(b, `,"ecs.version":"9.4.0"`...)
	b = append(b, f.service...)

	b = append(b, `,"event":{"action":"OrderRejected","kind":"event","id":"`...)
	b = f.ids.append(b)
	b = append(b, '"')
	b = append(b, f.dataset...)
	if ev.Reason != "" {
		b = f.appendString(append(b, `,"reason":`...), ev.Reason)
	}

	b = append(b, f.host...) // closes event, writes host and opens process
	if v.Worker != "" {
		b = f.appendString(append(b, `,"thread":{"name":`...), v.Worker)
		b = append(b, '}')
	}
	b = append(b, '}')

	trace := v.TraceID
	if trace == "" {
		trace = v.CorrelationID
	}
	if trace != "" {
		b = append(f.appendString(append(b, `,"trace":{"id":`...), trace), '}')
	}
	if v.SpanID != "" {
		b = append(f.appendString(append(b, `,"span":{"id":`...), v.SpanID), '}')
	}
	if v.TransactionID != "" {
		b = append(f.appendString(append(b, `,"transaction":{"id":`...), v.TransactionID), '}')
	}

	if v.RequestID != "" || ev.Method != "" || ev.StatusCode != 0 {
		b = append(b, `,"http":{`...)
		if v.RequestID != "" || ev.Method != "" {
			b = append(b, `"request":{`...)
			if v.RequestID != "" {
				b = f.appendString(append(b, `"id":`...), v.RequestID)
				if ev.Method != "" {
					b = append(b, ',')
				}
			}
			if ev.Method != "" {
				b = f.appendString(append(b, `"method":`...), ev.Method)
			}
			b = append(b, '}')
			if ev.StatusCode != 0 {
				b = append(b, ',')
			}
		}
		if ev.StatusCode != 0 {
			b = strconv.AppendInt(append(b, `"response":{"status_code":`...), int64(ev.StatusCode), 10)
			b = append(b, '}')
		}
		b = append(b, '}')
	}

	if err := ev.Err; err != nil {
		b = append(b, `,"error":{`...)
		if msg := err.Error(); msg != "" { // an empty string says nothing: left out
			b = append(f.appendString(append(b, `"message":`...), msg), ',')
		}
		b = f.appendString(append(b, `"type":`...), reflect.TypeOf(err).String())
		if st, ok := err.(event.StackTracer); ok {
			if s := st.StackTrace(); s != "" {
				b = f.appendString(append(b, `,"stack_trace":`...), s)
			}
		}
		b = append(b, '}')
	}

	if ev.Path != "" {
		b = append(f.appendString(append(b, `,"url":{"path":`...), ev.Path), '}')
	}

	b = append(b, `,"Pipelog":{`...)
	if ev.Warning != "" {
		b = append(f.appendString(append(b, `"warning":`...), ev.Warning), ',')
	}
	b = f.appendString(append(b, `"OrderRejected":{"Tenant":`...), ev.Tenant)
	b = f.appendString(append(b, `,"OrderID":`...), ev.OrderID)
	b = f.appendString(append(b, `,"Customer":`...), ev.Customer)
	b = strconv.AppendInt(append(b, `,"Items":`...), int64(ev.Items), 10)
	b = appendFloorFloat(append(b, `,"Amount":`...), ev.Amount)
	b = strconv.AppendBool(append(b, `,"Retry":`...), ev.Retry)
	b = strconv.AppendInt(append(b, `,"Elapsed":`...), int64(ev.Elapsed), 10)
	b = f.appendString(append(b, `,"Source":`...), ev.Source)
	return append(b, "}}}\n"...)
}

// appendFloorFloat is a JSON number as pipelog writes it: null for NaN and
// ±Inf, exponent form below 1e-6 and from 1e21 on, shortest digits.
func appendFloorFloat(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, x, format, -1, 64)
}

// floorPlain[c] is true for the bytes that go into a JSON string as they
// are: printable ASCII other than '"' and '\\'.
var floorPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// floorEscapes[c] is what an ASCII byte that is not plain becomes.
var floorEscapes = func() (t [0x80]string) {
	for c := range 0x20 {
		t[c] = `\u00` + string(floorHex[c>>4]) + string(floorHex[c&0xf])
	}
	t['\n'], t['\r'], t['\t'], t['"'], t['\\'] = `\n`, `\r`, `\t`, `\"`, `\\`
	return t
}()

// appendString appends s as a JSON string, cut past f.max bytes and marked
// as pipelog marks it.
func (f *floorLogger) appendString(b []byte, s string) []byte {
	if len(s) > f.max {
		n := f.max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		b = appendFloorEscaped(append(b, '"'), s[:n])
		b = append(b, "…(truncated "...)
		b = strconv.AppendInt(b, int64(len(s)-n), 10)
		return append(b, ` bytes)"`...)
	}
	b = append(b, '"')
	return append(appendFloorEscaped(b, s), '"')
}

// appendFloorEscaped escapes s: quotes, backslashes and control characters
// (short forms for \n, \r and \t), and each invalid UTF-8 byte as \ufffd.
func appendFloorEscaped(b []byte, s string) []byte {
	i := 0
	for i < len(s) && floorPlain[s[i]] {
		i++
	}
	if i == len(s) {
		return append(b, s...) // the common case: plain ASCII
	}
	start := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !floorPlain[c] {
				b = append(append(b, s[start:i]...), floorEscapes[c]...)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			start = i + 1
		}
		i += size
	}
	return append(b, s[start:]...)
}

const floorHex = "0123456789abcdef"

// floorIDs mints event.id as pipelog does: eight random bytes drawn once
// and a counter with a random start, as 32 hex digits. The prefix is
// hex-encoded once.
type floorIDs struct {
	prefix [16]byte
	n      atomic.Uint64
}

func (s *floorIDs) init() {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	for i, c := range raw[:8] {
		s.prefix[2*i], s.prefix[2*i+1] = floorHex[c>>4], floorHex[c&0xf]
	}
	s.n.Store(binary.BigEndian.Uint64(raw[8:]) &^ (1<<32 - 1))
}

// append appends the next ID's 32 hex digits.
func (s *floorIDs) append(b []byte) []byte {
	n := s.n.Add(1)
	var d [32]byte
	copy(d[:16], s.prefix[:])
	for i := 31; i >= 16; i-- {
		d[i] = floorHex[n&0xf]
		n >>= 4
	}
	return append(b, d[:]...)
}

// floorSecond is the formatted whole second of the last @timestamp.
type floorSecond struct {
	unix int64
	text [20]byte // "2026-11-26T10:00:00."
}

// appendNow appends t as "YYYY-MM-DDTHH:MM:SS.ffffffZ", quoted, in UTC.
// The date and clock digits come from a cache of the last second, filled
// once a second, so time.AppendFormat is good enough there; years outside
// 0000–9999 are clamped, as pipelog clamps them.
func (f *floorLogger) appendNow(b []byte, t time.Time) []byte {
	unix := t.Unix()
	c := f.second.Load()
	if c == nil || c.unix != unix {
		u := t.UTC()
		if y := u.Year(); y < 0 {
			return append(b, `"0000-01-01T00:00:00.000000Z"`...)
		} else if y > 9999 {
			return append(b, `"9999-12-31T23:59:59.999999Z"`...)
		}
		c = &floorSecond{unix: unix}
		u.AppendFormat(c.text[:0], "2006-01-02T15:04:05.")
		f.second.Store(c)
	}
	b = append(b, '"')
	b = append(b, c.text[:]...)
	us := t.Nanosecond() / 1000
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	b = append(b, d[:]...)
	return append(b, 'Z', '"')
}

// emitFloor is emitPipelog for the floor: the same event value, built the
// same way.
func emitFloor(ctx context.Context, f *floorLogger) {
	f.emit(ctx, &OrderRejected{
		Base: event.Warn("order rejected").WithErr(errRejected).WithReason("credit"),
		Path: "/v1/orders", Method: "POST", Tenant: "acme", OrderID: "ord-123456", Customer: "cust-42",
		Items: 3, Amount: 129.95, Retry: true, Elapsed: 1500 * time.Microsecond, Source: "kafka"})
}
