package benchmarks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.elastic.co/ecszap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// The event every peer writes: a message, an error, and ten fields, plus the
// trace ID, span ID and worker name that pipelog reads from the context and
// the peers are handed as fields.
type OrderRejected struct {
	event.Base
	Path     string `ecs:"url.path"`
	Method   string `ecs:"http.request.method"`
	Tenant   string
	OrderID  string
	Customer string
	Items    int
	Amount   float64
	Retry    bool
	Elapsed  time.Duration
	Source   string
}

const (
	traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	spanID  = "00f067aa0ba902b7"
	worker  = "worker-3"
)

var errRejected = errors.New("credit limit exceeded")

func pipelogLogger(b *testing.B, level event.Level) (*pipelog.Logger, context.Context) {
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Environment: "prod", Version: "1.4.2",
		Level: level, Sinks: []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := logctx.WithTrace(context.Background(), traceID, spanID)
	return log, logctx.WithWorker(ctx, worker)
}

// floorBench is the floor (floor_test.go) configured as pipelogLogger's
// Logger, writing to the same kind of sink.
func floorBench(level event.Level) *floorLogger {
	return newFloor(floorConfig{Service: "orders-etl", Environment: "prod", Version: "1.4.2", Level: level,
		Sink: sink.NewWriter(io.Discard, sink.WriterConfig{})})
}

func emitPipelog(ctx context.Context, log *pipelog.Logger) {
	pipelog.Emit(ctx, log, OrderRejected{
		Base: event.Warn("order rejected").WithErr(errRejected).WithReason("credit"),
		Path: "/v1/orders", Method: "POST", Tenant: "acme", OrderID: "ord-123456", Customer: "cust-42",
		Items: 3, Amount: 129.95, Retry: true, Elapsed: 1500 * time.Microsecond, Source: "kafka"})
}

// buildOnly is emitPipelog with Emit replaced by a no-op generic function
// of the same signature: what the caller pays to build the event value and
// pass it, without Emit. BenchmarkDisabled/pipelog minus this is Emit's own
// disabled cost.
func buildOnly(ctx context.Context, log *pipelog.Logger) {
	noopEmit(ctx, log, OrderRejected{
		Base: event.Warn("order rejected").WithErr(errRejected).WithReason("credit"),
		Path: "/v1/orders", Method: "POST", Tenant: "acme", OrderID: "ord-123456", Customer: "cust-42",
		Items: 3, Amount: 129.95, Retry: true, Elapsed: 1500 * time.Microsecond, Source: "kafka"})
}

// noopEmit takes what pipelog.Emit takes and does nothing. It is not
// inlined, as pipelog.Emit is not at this call site (a generic function
// called through its shape's dictionary), so the event value is still
// built and copied into the call.
//
//go:noinline
func noopEmit[E event.Event](ctx context.Context, l *pipelog.Logger, ev E) {}

func zapFields() []zap.Field {
	return []zap.Field{
		zap.String("trace.id", traceID), zap.String("span.id", spanID), zap.String("process.thread.name", worker),
		zap.Error(errRejected), zap.String("event.reason", "credit"),
		zap.String("url.path", "/v1/orders"), zap.String("http.request.method", "POST"), zap.String("tenant", "acme"),
		zap.String("order_id", "ord-123456"), zap.String("customer", "cust-42"), zap.Int("items", 3),
		zap.Float64("amount", 129.95), zap.Bool("retry", true), zap.Duration("elapsed", 1500*time.Microsecond),
		zap.String("source", "kafka"),
	}
}

func zapJSON(level zapcore.Level) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), level)).
		With(zap.String("service.name", "orders-etl"), zap.String("service.environment", "prod"))
}

func zapECS(level zapcore.Level) *zap.Logger {
	core := ecszap.NewCore(ecszap.NewDefaultEncoderConfig(), zapcore.AddSync(io.Discard), level)
	return zap.New(core).With(zap.String("service.name", "orders-etl"), zap.String("service.environment", "prod"))
}

func zerologLogger(level zerolog.Level) zerolog.Logger {
	return zerolog.New(io.Discard).Level(level).With().Timestamp().
		Str("service.name", "orders-etl").Str("service.environment", "prod").Logger()
}

func emitZerolog(l zerolog.Logger) {
	l.Warn().Str("trace.id", traceID).Str("span.id", spanID).Str("process.thread.name", worker).
		Err(errRejected).Str("event.reason", "credit").
		Str("url.path", "/v1/orders").Str("http.request.method", "POST").Str("tenant", "acme").
		Str("order_id", "ord-123456").Str("customer", "cust-42").Int("items", 3).Float64("amount", 129.95).
		Bool("retry", true).Dur("elapsed", 1500*time.Microsecond).Str("source", "kafka").Msg("order rejected")
}

func slogJSON(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level})).
		With("service.name", "orders-etl", "service.environment", "prod")
}

func emitSlog(ctx context.Context, l *slog.Logger) {
	l.LogAttrs(ctx, slog.LevelWarn, "order rejected",
		slog.String("trace.id", traceID), slog.String("span.id", spanID), slog.String("process.thread.name", worker),
		slog.Any("error", errRejected), slog.String("event.reason", "credit"),
		slog.String("url.path", "/v1/orders"), slog.String("http.request.method", "POST"), slog.String("tenant", "acme"),
		slog.String("order_id", "ord-123456"), slog.String("customer", "cust-42"), slog.Int("items", 3),
		slog.Float64("amount", 129.95), slog.Bool("retry", true), slog.Duration("elapsed", 1500*time.Microsecond),
		slog.String("source", "kafka"))
}

// BenchmarkEvent compares one enabled ~10-field event across libraries.
func BenchmarkEvent(b *testing.B) {
	b.Run("pipelog", func(b *testing.B) {
		log, ctx := pipelogLogger(b, event.LevelInfo)
		b.ReportAllocs()
		for range b.N {
			emitPipelog(ctx, log)
		}
	})
	b.Run("zerolog", func(b *testing.B) {
		l := zerologLogger(zerolog.InfoLevel)
		b.ReportAllocs()
		for range b.N {
			emitZerolog(l)
		}
	})
	b.Run("floor", func(b *testing.B) {
		f := floorBench(event.LevelInfo)
		_, ctx := pipelogLogger(b, event.LevelInfo)
		b.ReportAllocs()
		for range b.N {
			emitFloor(ctx, f)
		}
	})
	b.Run("zerolog-ecs", func(b *testing.B) {
		z := newZerologECS(b, io.Discard, zerolog.InfoLevel, time.Now)
		b.ReportAllocs()
		for range b.N {
			z.emit()
		}
	})
	b.Run("zap", func(b *testing.B) {
		l := zapJSON(zapcore.InfoLevel)
		b.ReportAllocs()
		for range b.N {
			l.Warn("order rejected", zapFields()...)
		}
	})
	b.Run("zap+ecszap", func(b *testing.B) {
		l := zapECS(zapcore.InfoLevel)
		b.ReportAllocs()
		for range b.N {
			l.Warn("order rejected", zapFields()...)
		}
	})
	b.Run("slog-json", func(b *testing.B) {
		l := slogJSON(slog.LevelInfo)
		ctx := context.Background()
		b.ReportAllocs()
		for range b.N {
			emitSlog(ctx, l)
		}
	})
}

// BenchmarkEventParallel is BenchmarkEvent from every core.
func BenchmarkEventParallel(b *testing.B) {
	b.Run("pipelog", func(b *testing.B) {
		log, ctx := pipelogLogger(b, event.LevelInfo)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				emitPipelog(ctx, log)
			}
		})
	})
	b.Run("zerolog", func(b *testing.B) {
		l := zerologLogger(zerolog.InfoLevel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				emitZerolog(l)
			}
		})
	})
	b.Run("floor", func(b *testing.B) {
		f := floorBench(event.LevelInfo)
		_, ctx := pipelogLogger(b, event.LevelInfo)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				emitFloor(ctx, f)
			}
		})
	})
	b.Run("zerolog-ecs", func(b *testing.B) {
		z := newZerologECS(b, io.Discard, zerolog.InfoLevel, time.Now)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				z.emit()
			}
		})
	})
	b.Run("zap", func(b *testing.B) {
		l := zapJSON(zapcore.InfoLevel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Warn("order rejected", zapFields()...)
			}
		})
	})
	b.Run("zap+ecszap", func(b *testing.B) {
		l := zapECS(zapcore.InfoLevel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Warn("order rejected", zapFields()...)
			}
		})
	})
	b.Run("slog-json", func(b *testing.B) {
		l := slogJSON(slog.LevelInfo)
		ctx := context.Background()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				emitSlog(ctx, l)
			}
		})
	})
}

// BenchmarkDisabled: the same call at a level that is off.
func BenchmarkDisabled(b *testing.B) {
	b.Run("pipelog", func(b *testing.B) {
		log, ctx := pipelogLogger(b, event.LevelError)
		b.ReportAllocs()
		for range b.N {
			emitPipelog(ctx, log)
		}
	})
	b.Run("pipelog-base-only", func(b *testing.B) {
		type Tick struct{ event.Base }
		log, ctx := pipelogLogger(b, event.LevelError)
		b.ReportAllocs()
		for range b.N {
			pipelog.Emit(ctx, log, Tick{Base: event.Warn("tick")})
		}
	})
	b.Run("pipelog-enabled-check", func(b *testing.B) {
		log, ctx := pipelogLogger(b, event.LevelError)
		b.ReportAllocs()
		for range b.N {
			if log.Enabled(event.LevelWarn) {
				emitPipelog(ctx, log)
			}
		}
	})
	b.Run("pipelog-build-only", func(b *testing.B) {
		log, ctx := pipelogLogger(b, event.LevelError)
		b.ReportAllocs()
		for range b.N {
			buildOnly(ctx, log)
		}
	})
	b.Run("zerolog", func(b *testing.B) {
		l := zerologLogger(zerolog.ErrorLevel)
		b.ReportAllocs()
		for range b.N {
			emitZerolog(l)
		}
	})
	b.Run("zerolog-ecs", func(b *testing.B) {
		z := newZerologECS(b, io.Discard, zerolog.ErrorLevel, time.Now)
		b.ReportAllocs()
		for range b.N {
			z.emit()
		}
	})
	b.Run("zap", func(b *testing.B) {
		l := zapJSON(zapcore.ErrorLevel)
		b.ReportAllocs()
		for range b.N {
			l.Warn("order rejected", zapFields()...)
		}
	})
	b.Run("zap+ecszap", func(b *testing.B) {
		l := zapECS(zapcore.ErrorLevel)
		b.ReportAllocs()
		for range b.N {
			l.Warn("order rejected", zapFields()...)
		}
	})
	b.Run("slog-json", func(b *testing.B) {
		l := slogJSON(slog.LevelError)
		ctx := context.Background()
		b.ReportAllocs()
		for range b.N {
			emitSlog(ctx, l)
		}
	})
}

// BenchmarkDisabledParallel is BenchmarkDisabled from every core.
func BenchmarkDisabledParallel(b *testing.B) {
	b.Run("pipelog", func(b *testing.B) {
		log, ctx := pipelogLogger(b, event.LevelError)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				emitPipelog(ctx, log)
			}
		})
	})
	b.Run("zerolog", func(b *testing.B) {
		l := zerologLogger(zerolog.ErrorLevel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				emitZerolog(l)
			}
		})
	})
	b.Run("zap+ecszap", func(b *testing.B) {
		l := zapECS(zapcore.ErrorLevel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Warn("order rejected", zapFields()...)
			}
		})
	})
}
