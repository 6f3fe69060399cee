package pipelogslog_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/fuzzval"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogslog"
)

// fuzzKeys are keys an attribute may have besides the fuzzer's and
// fuzzval's hostile ones: ECS fields of every type the handler checks, the
// line's error, labels and unit-forming groups.
var fuzzKeys = []string{"client.ip", "related.ip", "ip", "client", "http.response.status_code", "status_code",
	"http", "response", "user", "name", "id", "url.path", "err", "error", "labels.x", "client.geo.location",
	"container.labels", "http.response.bytes", "event.duration", "process.uptime", "user.id", "source.port", "tags"}

// valuer is a LogValuer the fuzzer builds: it resolves to a value, to
// another valuer, or panics.
type valuer struct {
	v     slog.Value
	panic bool
}

func (v valuer) LogValue() slog.Value {
	if v.panic {
		panic("LogValue")
	}
	return v.v
}

func fuzzAttr(b *fuzzval.Builder, depth int) slog.Attr {
	key := b.String()
	switch b.Intn(12) {
	case 0:
		return slog.String(key, b.String())
	case 1:
		return slog.Int64(key, int64(b.Uint64()))
	case 2:
		return slog.Uint64(key, b.Uint64())
	case 3:
		return slog.Float64(key, float64(int64(b.Uint64()))/float64(1+b.Intn(100)))
	case 4:
		return slog.Bool(key, b.Intn(2) == 0)
	case 5:
		return slog.Duration(key, time.Duration(b.Uint64()))
	case 6:
		return slog.Time(key, time.Unix(int64(b.Uint64()%(1<<36))-1<<35, 0).In(time.FixedZone("Z", b.Intn(24)*3600)))
	case 7:
		return slog.Any(key, b.Error(3))
	case 8:
		return slog.Any(key, valuer{v: fuzzAttr(b, depth-1).Value, panic: b.Intn(3) == 0})
	case 9:
		if depth > 0 {
			as := make([]any, b.Intn(5))
			for i := range as {
				as[i] = fuzzAttr(b, depth-1)
			}
			return slog.Group(key, as...)
		}
	case 10:
		return slog.Any(key, []string{b.String(), b.String()})
	}
	return slog.Any(key, b.Value(4))
}

// FuzzSlogHandler: hostile attributes (fuzzval's keys and values, error
// chains with typed nils, cycles and Join trees, MarshalJSON output,
// panicking LogValuers, groups, ECS names with values of the wrong type)
// through WithAttrs, WithGroup and a record always give exactly one line,
// valid JSON that passes the conformance checker, and never a panic.
func FuzzSlogHandler(f *testing.F) {
	f.Add([]byte{9, 0, 1, 0, 2, 7, 1, 8, 0, 3}, "client.ip", `{"a":1,"a.b":2}`)
	f.Add([]byte{11, 4, 3, 0, 1, 8, 1, 13, 0, 9, 3, 1, 2}, "user", "not-an-ip")
	f.Add([]byte{7, 8, 3, 3, 1, 4, 2, 1, 10, 5, 5}, "\xff\xfe", "<script>")
	f.Fuzz(func(t *testing.T, data []byte, s1, s2 string) {
		b := fuzzval.New(data, append([]string{s1, s2}, fuzzKeys...)...)
		log, mem, _ := testlog.Logger(t, pipelog.Config{Level: -128, MaxStringBytes: 512, MaxLineBytes: 8192})
		l := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
		for range b.Intn(3) {
			if b.Intn(2) == 0 {
				l = l.WithGroup(b.String())
			} else {
				l = l.With(fuzzAttr(b, 2))
			}
		}
		as := make([]slog.Attr, b.Intn(8))
		for i := range as {
			as[i] = fuzzAttr(b, 3)
		}
		l.LogAttrs(context.Background(), slog.Level(int8(b.Intn(256))), s1, as...)
		testlog.FuzzCheck(t, mem, 1, 8192)
	})
}
