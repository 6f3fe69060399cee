package pipelog_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// OrderRejected is the benchmark's typed event: a Base and ten fields, two
// of them on ECS fields, the kind of event a pipeline emits per record.
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

var errRejected = errors.New("credit limit exceeded")

func newOrderRejected() OrderRejected {
	return OrderRejected{
		Base: event.Warn("order rejected").WithErr(errRejected).WithReason("credit"),
		Path: "/v1/orders", Method: "POST", Tenant: "acme", OrderID: "ord-123456",
		Customer: "cust-42", Items: 3, Amount: 129.95, Retry: true, Elapsed: 1500 * time.Microsecond, Source: "kafka",
	}
}

func benchLogger(b *testing.B, level event.Level, caller bool) *pipelog.Logger {
	b.Helper()
	log, err := pipelog.New(pipelog.Config{Service: "orders-etl", Environment: "prod", Version: "1.4.2",
		Level: level, Caller: caller, Sinks: []sink.Sink{sink.NewWriter(io.Discard, sink.WriterConfig{})}})
	if err != nil {
		b.Fatal(err)
	}
	return log
}

func benchContext() context.Context {
	ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	ctx = logctx.WithWorker(ctx, "worker-3")
	return logctx.WithLabel(ctx, "pipeline", "orders")
}

func BenchmarkEmit(b *testing.B) {
	for _, bc := range []struct {
		name   string
		caller bool
	}{{"caller=off", false}, {"caller=on", true}} {
		b.Run(bc.name, func(b *testing.B) {
			log := benchLogger(b, event.LevelInfo, bc.caller)
			ctx := benchContext()
			b.ReportAllocs()
			for range b.N {
				pipelog.Emit(ctx, log, newOrderRejected())
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			log := benchLogger(b, event.LevelInfo, bc.caller)
			ctx := benchContext()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					pipelog.Emit(ctx, log, newOrderRejected())
				}
			})
		})
	}
}

func BenchmarkEmitDisabled(b *testing.B) {
	log := benchLogger(b, event.LevelError, false)
	ctx := benchContext()
	b.Run("ten-fields", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			pipelog.Emit(ctx, log, newOrderRejected())
		}
	})
	b.Run("base-only", func(b *testing.B) {
		type Tick struct{ event.Base }
		b.ReportAllocs()
		for range b.N {
			pipelog.Emit(ctx, log, Tick{Base: event.Debug("tick")})
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				pipelog.Emit(ctx, log, newOrderRejected())
			}
		})
	})
}

// BenchmarkEmitContext isolates what reading correlation values from the
// context adds to Emit: the same event with an empty context and with trace,
// worker and a label set.
func BenchmarkEmitContext(b *testing.B) {
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{{"empty", context.Background()}, {"values", benchContext()}} {
		b.Run(bc.name, func(b *testing.B) {
			log := benchLogger(b, event.LevelInfo, false)
			b.ReportAllocs()
			for range b.N {
				pipelog.Emit(bc.ctx, log, newOrderRejected())
			}
		})
	}
}

// BenchmarkWith measures a Logger derived per unit of work: With then Emit,
// against Emit on the root and on a Logger derived once. Derived loggers
// share the root's compiled plans, so With+Emit should cost little more
// than Emit.
func BenchmarkWith(b *testing.B) {
	log := benchLogger(b, event.LevelInfo, false)
	ctx := benchContext()
	ev := newOrderRejected()
	b.Run("emit", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			pipelog.Emit(ctx, log, ev)
		}
	})
	derived := log.With(pipelog.Field{Key: "tenant", Value: "acme"}, pipelog.Field{Key: "user.id", Value: "u-1"})
	b.Run("derived-emit", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			pipelog.Emit(ctx, derived, ev)
		}
	})
	b.Run("with+emit", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			d := log.With(pipelog.Field{Key: "tenant", Value: "acme"}, pipelog.Field{Key: "user.id", Value: "u-1"})
			pipelog.Emit(ctx, d, ev)
		}
	})
}
