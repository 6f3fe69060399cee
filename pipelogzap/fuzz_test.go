package pipelogzap_test

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/internal/fuzzval"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogzap"
)

// fuzzKeys are keys a field may have besides the fuzzer's and fuzzval's
// hostile ones: ECS fields of every type the core checks, the line's
// error, labels and object-forming keys.
var fuzzKeys = []string{"client.ip", "related.ip", "ip", "client", "http.response.status_code", "status_code",
	"http", "response", "user", "name", "id", "url.path", "err", "error", "labels.x", "client.geo.location",
	"container.labels", "http.response.bytes", "event.duration", "process.uptime", "user.id", "source.port",
	"tags", "ecs.version", "message"}

// fuzzObject is an ObjectMarshaler (and ArrayMarshaler) replaying fields
// the fuzzer built, then panicking or returning an error if told to.
type fuzzObject struct {
	fields []zapcore.Field
	panic  bool
	err    error
}

func (o fuzzObject) MarshalLogObject(e zapcore.ObjectEncoder) error {
	for i := range o.fields {
		o.fields[i].AddTo(e)
	}
	if o.panic {
		panic("MarshalLogObject")
	}
	return o.err
}

func (o fuzzObject) MarshalLogArray(e zapcore.ArrayEncoder) error {
	for i := range o.fields {
		switch f := o.fields[i]; f.Type {
		case zapcore.ObjectMarshalerType:
			_ = e.AppendObject(f.Interface.(zapcore.ObjectMarshaler))
		case zapcore.StringType:
			e.AppendString(f.String)
		case zapcore.Int64Type:
			e.AppendInt64(f.Integer)
		default:
			_ = e.AppendReflected(f.Interface)
		}
	}
	if o.panic {
		panic("MarshalLogArray")
	}
	return o.err
}

func fuzzObj(b *fuzzval.Builder, depth int) fuzzObject {
	o := fuzzObject{fields: make([]zapcore.Field, b.Intn(5)), panic: b.Intn(8) == 0}
	for i := range o.fields {
		o.fields[i] = fuzzField(b, depth-1)
	}
	switch b.Intn(6) {
	case 0:
		o.err = b.Error(2)
	case 1:
		o.err = errors.New(b.String())
	}
	return o
}

func fuzzField(b *fuzzval.Builder, depth int) zapcore.Field {
	key := b.String()
	switch b.Intn(16) {
	case 0:
		return zap.String(key, b.String())
	case 1:
		return zap.Int64(key, int64(b.Uint64()))
	case 2:
		return zap.Uint64(key, b.Uint64())
	case 3:
		return zap.Float64(key, float64(int64(b.Uint64()))/float64(1+b.Intn(100)))
	case 4:
		return zap.Bool(key, b.Intn(2) == 0)
	case 5:
		return zap.Duration(key, time.Duration(b.Uint64()))
	case 6:
		return zap.Time(key, time.Unix(int64(b.Uint64()%(1<<36))-1<<35, 0).In(time.FixedZone("Z", b.Intn(24)*3600)))
	case 7:
		return zap.Error(b.Error(3))
	case 8:
		return zap.NamedError(key, b.Error(3))
	case 9:
		if depth > 0 {
			return zap.Object(key, fuzzObj(b, depth))
		}
	case 10:
		if depth > 0 {
			return zap.Array(key, fuzzObj(b, depth))
		}
	case 11:
		return zap.Namespace(key)
	case 12:
		if depth > 0 {
			return zap.Inline(fuzzObj(b, depth))
		}
	case 13:
		return zap.Strings(key, []string{b.String(), b.String()})
	case 14:
		return zap.Stringer(key, fuzzval.Panicky{N: b.Intn(3)})
	}
	return zap.Any(key, b.Value(4))
}

// fuzzHook lets Panic and Fatal return in the fuzzer.
type fuzzHook struct{}

func (fuzzHook) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) {}

// FuzzZapCore: hostile fields (fuzzval's keys and values, error chains with
// typed nils, cycles and Join trees, MarshalJSON output, objects and arrays
// whose marshallers panic or fail at any depth, namespaces, zap.Inline, ECS
// names with values of the wrong type) through With and an entry at any
// level always give exactly one line, valid JSON that passes the
// conformance checker, and never a panic.
func FuzzZapCore(f *testing.F) {
	f.Add([]byte{9, 0, 1, 0, 2, 7, 1, 8, 0, 3}, "client.ip", `{"a":1,"a.b":2}`)
	f.Add([]byte{12, 4, 9, 3, 0, 1, 8, 1, 13, 0, 9, 3, 1, 2}, "user", "not-an-ip")
	f.Add([]byte{10, 8, 3, 3, 1, 4, 2, 1, 10, 5, 5, 11}, "\xff\xfe", "<script>")
	f.Fuzz(func(t *testing.T, data []byte, s1, s2 string) {
		b := fuzzval.New(data, append([]string{s1, s2}, fuzzKeys...)...)
		log, mem, _ := testlog.Logger(t, pipelog.Config{Level: -128, MaxStringBytes: 512, MaxLineBytes: 8192})
		z := zap.New(pipelogzap.NewCore(log), zap.WithPanicHook(fuzzHook{}), zap.WithFatalHook(fuzzHook{}))
		for range b.Intn(3) {
			z = z.With(fuzzField(b, 2))
		}
		fs := make([]zapcore.Field, b.Intn(8))
		for i := range fs {
			fs[i] = fuzzField(b, 3)
		}
		level := zapcore.Level(b.Intn(8) - 1) // Debug … Fatal
		if ce := z.Check(level, s1); ce != nil {
			ce.Write(fs...)
		}
		testlog.FuzzCheck(t, mem, 1, 8192)
	})
}
