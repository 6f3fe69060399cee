package benchmarks

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.elastic.co/ecszap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/pipelogslog"
	"github.com/pipelog/pipelog/pipelogzap"
	"github.com/pipelog/pipelog/sink"
)

// The adapter benchmarks run the same log call (a message, ten attributes
// and an error) through two handlers (slog) or two cores (zap) writing to
// io.Discard. pipelog's lines carry more than the peers' (event.id,
// trace.id and span.id from the context, host, process.pid, ECS placement),
// the peers' lines are what they write by default.
//
//	go test -run '^$' -bench 'Slog|Zap' -benchmem -count 5

func adpPipelog(b *testing.B) (*pipelog.Logger, context.Context) {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Environment: "prod", Version: "1.4.2",
		Level: event.LevelInfo, Sinks: []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}})
	if err != nil {
		b.Fatal(err)
	}
	return log, logctx.WithTrace(context.Background(), traceID, spanID)
}

// adpSlogCall is the slog call of every slog benchmark.
func adpSlogCall(ctx context.Context, l *slog.Logger) {
	l.LogAttrs(ctx, slog.LevelWarn, "order rejected",
		slog.Any("err", errRejected),
		slog.String("url.path", "/v1/orders"), slog.String("http.request.method", "POST"), slog.String("tenant", "acme"),
		slog.String("order_id", "ord-123456"), slog.String("customer", "cust-42"), slog.Int("items", 3),
		slog.Float64("amount", 129.95), slog.Bool("retry", true), slog.Duration("elapsed", 1500*time.Microsecond),
		slog.String("source", "kafka"))
}

// adpZapCall is the zap call of every zap benchmark: fields are built at the
// call site, as zap users write them.
func adpZapCall(l *zap.Logger) {
	l.Warn("order rejected",
		zap.Error(errRejected),
		zap.String("url.path", "/v1/orders"), zap.String("http.request.method", "POST"), zap.String("tenant", "acme"),
		zap.String("order_id", "ord-123456"), zap.String("customer", "cust-42"), zap.Int("items", 3),
		zap.Float64("amount", 129.95), zap.Bool("retry", true), zap.Duration("elapsed", 1500*time.Microsecond),
		zap.String("source", "kafka"))
}

func adpSlogLoggers(b *testing.B) map[string]*slog.Logger {
	log, _ := adpPipelog(b)
	return map[string]*slog.Logger{
		"pipelog": slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{})),
		"slog-json": slog.New(slog.NewJSONHandler(io.Discard, nil)).
			With("service.name", "orders-etl", "service.environment", "prod"),
	}
}

func adpZapLoggers(b *testing.B) map[string]*zap.Logger {
	log, _ := adpPipelog(b)
	return map[string]*zap.Logger{
		"pipelog": zap.New(pipelogzap.NewCore(log)),
		"ecszap": zap.New(ecszap.NewCore(ecszap.NewDefaultEncoderConfig(), zapcore.AddSync(io.Discard), zapcore.InfoLevel)).
			With(zap.String("service.name", "orders-etl"), zap.String("service.environment", "prod")),
	}
}

var adpOrder = []string{"pipelog", "slog-json", "ecszap"}

func BenchmarkSlogAdapter(b *testing.B) {
	_, ctx := adpPipelog(b)
	ls := adpSlogLoggers(b)
	for _, name := range adpOrder {
		l, ok := ls[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				adpSlogCall(ctx, l)
			}
		})
	}
}

func BenchmarkSlogAdapterParallel(b *testing.B) {
	_, ctx := adpPipelog(b)
	ls := adpSlogLoggers(b)
	for _, name := range adpOrder {
		l, ok := ls[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					adpSlogCall(ctx, l)
				}
			})
		})
	}
}

func BenchmarkZapAdapter(b *testing.B) {
	ls := adpZapLoggers(b)
	for _, name := range adpOrder {
		l, ok := ls[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				adpZapCall(l)
			}
		})
	}
}

func BenchmarkZapAdapterParallel(b *testing.B) {
	ls := adpZapLoggers(b)
	for _, name := range adpOrder {
		l, ok := ls[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					adpZapCall(l)
				}
			})
		})
	}
}

// BenchmarkSlogHandle calls Handle directly with a prepared record: the
// handlers' own cost, without slog.Logger's (time.Now, runtime.Callers, the
// record's attribute storage), which both pay alike.
func BenchmarkSlogHandle(b *testing.B) {
	_, ctx := adpPipelog(b)
	log, _ := adpPipelog(b)
	handlers := map[string]slog.Handler{
		"pipelog":   pipelogslog.NewHandler(log, pipelogslog.Config{}),
		"slog-json": slog.NewJSONHandler(io.Discard, nil).WithAttrs([]slog.Attr{slog.String("service.name", "orders-etl"), slog.String("service.environment", "prod")}),
	}
	r := slog.NewRecord(time.Now(), slog.LevelWarn, "order rejected", 0)
	r.AddAttrs(slog.Any("err", errRejected),
		slog.String("url.path", "/v1/orders"), slog.String("http.request.method", "POST"), slog.String("tenant", "acme"),
		slog.String("order_id", "ord-123456"), slog.String("customer", "cust-42"), slog.Int("items", 3),
		slog.Float64("amount", 129.95), slog.Bool("retry", true), slog.Duration("elapsed", 1500*time.Microsecond),
		slog.String("source", "kafka"))
	for _, name := range adpOrder {
		h, ok := handlers[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = h.Handle(ctx, r)
			}
		})
	}
}

// BenchmarkZapWrite calls Core.Write directly with prepared fields: the
// cores' own cost, without zap.Logger's (Check, the entry, the variadic
// field slice).
func BenchmarkZapWrite(b *testing.B) {
	log, _ := adpPipelog(b)
	cores := map[string]zapcore.Core{
		"pipelog": pipelogzap.NewCore(log),
		"ecszap": ecszap.NewCore(ecszap.NewDefaultEncoderConfig(), zapcore.AddSync(io.Discard), zapcore.InfoLevel).
			With([]zapcore.Field{zap.String("service.name", "orders-etl"), zap.String("service.environment", "prod")}),
	}
	fields := func() []zapcore.Field {
		return []zapcore.Field{zap.Error(errRejected),
			zap.String("url.path", "/v1/orders"), zap.String("http.request.method", "POST"), zap.String("tenant", "acme"),
			zap.String("order_id", "ord-123456"), zap.String("customer", "cust-42"), zap.Int("items", 3),
			zap.Float64("amount", 129.95), zap.Bool("retry", true), zap.Duration("elapsed", 1500*time.Microsecond),
			zap.String("source", "kafka")}
	}
	for _, name := range adpOrder {
		core, ok := cores[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			fs := fields() // ecszap rewrites the error field in place: fresh fields per sub-benchmark
			ent := zapcore.Entry{Level: zapcore.WarnLevel, Time: time.Now(), Message: "order rejected"}
			b.ReportAllocs()
			for b.Loop() {
				_ = core.Write(ent, fs)
			}
		})
	}
}
