package pipelog_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/ecs"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/conformance"
	"github.com/pipelog/pipelog/internal/memsink"
	"github.com/pipelog/pipelog/sink"
)

type BadRequestReceived struct {
	event.Base
	Path   string `ecs:"url.path"`
	Tenant string
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func newLogger(t *testing.T, cfg pipelog.Config) (*pipelog.Logger, *memsink.Sink, *[]error) {
	t.Helper()
	mem := &memsink.Sink{}
	if cfg.Service == "" {
		cfg.Service = "orders-etl"
	}
	if cfg.Sinks == nil {
		cfg.Sinks = []sink.Sink{mem}
	}
	var mu sync.Mutex
	errs := &[]error{}
	cfg.OnError = func(err error) { mu.Lock(); *errs = append(*errs, err); mu.Unlock() }
	cfg.Now = func() time.Time { return t0 }
	log, err := pipelog.New(cfg)
	require.NoError(t, err)
	return log, mem, errs
}

func decode(t *testing.T, mem *memsink.Sink) []conformance.Line {
	t.Helper()
	return conformance.Lines(t, mem.Bytes())
}

func field(m conformance.Line, path string) any { return m.Get(path) }

func TestEmitQuickStart(t *testing.T) {
	log, mem, errs := newLogger(t, pipelog.Config{Environment: "prod", Version: "1.0.0"})
	ctx := logctx.WithCorrelationID(context.Background(), "run-1")
	ctx = logctx.WithWorker(ctx, "loader-2")
	pipelog.Emit(ctx, log, BadRequestReceived{Base: event.Error("rejected order"), Path: "/orders", Tenant: "acme"})
	require.NoError(t, log.Close(context.Background()))

	lines := decode(t, mem)
	require.Len(t, lines, 1)
	m := lines[0]
	assert.Equal(t, "rejected order", m["message"])
	assert.Equal(t, "error", m["log.level"])
	assert.Equal(t, "BadRequestReceived", field(m, "event.action"))
	assert.Equal(t, "orders_etl", field(m, "event.dataset")) // sanitised: the data stream dataset
	assert.Equal(t, "prod", field(m, "service.environment"))
	assert.Equal(t, "run-1", field(m, "trace.id"))
	assert.Equal(t, "loader-2", field(m, "process.thread.name"))
	assert.Equal(t, "/orders", field(m, "url.path"))
	assert.Equal(t, "acme", field(m, "Pipelog.BadRequestReceived.Tenant"))
	assert.Regexp(t, `^[0-9a-f]{32}$`, field(m, "event.id"))
	assert.NotEmpty(t, field(m, "host.hostname"))
	assert.Empty(t, *errs)
}

func TestEventIDsAreUnique(t *testing.T) {
	log, mem, _ := newLogger(t, pipelog.Config{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("x")})
			}
		}()
	}
	wg.Wait()
	seen := map[any]bool{}
	for _, m := range decode(t, mem) {
		id := field(m, "event.id")
		assert.False(t, seen[id], "duplicate event.id %v", id)
		seen[id] = true
	}
	assert.Len(t, seen, 2000)
}

func TestLevels(t *testing.T) {
	errOnly := &memsink.Sink{}
	all := &memsink.Sink{}
	log, _, _ := newLogger(t, pipelog.Config{Level: event.LevelDebug,
		Sinks: []sink.Sink{all, sink.MinLevel(errOnly, event.LevelError)}})
	for _, b := range []event.Base{event.Debug("d"), event.Info("i"), event.Warn("w"), event.Error("e")} {
		pipelog.Emit(context.Background(), log, BadRequestReceived{Base: b})
	}
	assert.Len(t, all.Lines(), 4)
	assert.Len(t, errOnly.Lines(), 1)
	assert.True(t, log.Enabled(event.LevelDebug))

	log.SetLevel(event.LevelWarn)
	assert.False(t, log.Enabled(event.LevelInfo))
	pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("dropped")})
	assert.Len(t, all.Lines(), 4)

	onlyErrors, mem, _ := newLogger(t, pipelog.Config{Sinks: []sink.Sink{sink.MinLevel(&memsink.Sink{}, event.LevelError)}})
	assert.False(t, onlyErrors.Enabled(event.LevelWarn), "no sink takes warn, so nothing is encoded")
	_ = mem
}

func TestSinkFailureIsReportedNotPanicked(t *testing.T) {
	bad := &memsink.Sink{Fail: errors.New("disk full")}
	good := &memsink.Sink{}
	log, _, errs := newLogger(t, pipelog.Config{Sinks: []sink.Sink{bad, good}})
	pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("x")})
	assert.Len(t, good.Lines(), 1, "one failing sink does not stop the others")
	require.Len(t, *errs, 1)
	var se *sink.WriteError
	require.ErrorAs(t, (*errs)[0], &se)
	assert.Same(t, bad, se.Sink)
	assert.EqualValues(t, 1, log.Stats().SinkErrors)
}

func TestCloseFlushesAndDropsLaterEvents(t *testing.T) {
	log, mem, errs := newLogger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("before")})
	require.NoError(t, log.Close(context.Background()))
	require.NoError(t, log.Close(context.Background()), "closing twice is a no-op")
	pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("after")})
	pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("after")})
	assert.Len(t, mem.Lines(), 1)
	assert.EqualValues(t, 2, log.Stats().Dropped)
	require.Len(t, *errs, 1, "dropping after Close is reported once")
	assert.ErrorIs(t, (*errs)[0], sink.ErrClosed)
}

func TestNilLoggerNilContext(t *testing.T) {
	var log *pipelog.Logger
	assert.NotPanics(t, func() {
		pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("x")})
		assert.False(t, log.Enabled(event.LevelError))
	})
	real, mem, _ := newLogger(t, pipelog.Config{})
	//nolint:staticcheck // a nil context is bad input the Logger must survive
	pipelog.Emit(nil, real, BadRequestReceived{Base: event.Info("nil ctx")}) //lint:ignore SA1012 bad input on purpose
	assert.Len(t, mem.Lines(), 1)
}

type PtrBase struct {
	*event.Base
	N int
}

func TestNilEmbeddedBaseEvent(t *testing.T) {
	log, mem, _ := newLogger(t, pipelog.Config{})
	pipelog.Emit(context.Background(), log, PtrBase{N: 1})
	lines := decode(t, mem)
	require.Len(t, lines, 1)
	assert.Equal(t, "info", lines[0]["log.level"])
}

type WrongType struct {
	event.Base
	Bytes string `ecs:"http.request.bytes"`
}

func TestBrokenEventTypeReportedOnceLineStillWritten(t *testing.T) {
	log, mem, errs := newLogger(t, pipelog.Config{})
	for i := 0; i < 3; i++ {
		pipelog.Emit(context.Background(), log, WrongType{Base: event.Info("x"), Bytes: "12"})
	}
	assert.Len(t, decode(t, mem), 3)
	require.Len(t, *errs, 1)
	assert.ErrorIs(t, (*errs)[0], ecs.ErrInvalidEvent)
}

func TestWithFieldsAndCaller(t *testing.T) {
	log, mem, errs := newLogger(t, pipelog.Config{Caller: true, ThreadID: true, Fields: []pipelog.Field{{Key: "cloud.region", Value: "eu-1"}}})
	child := log.With(pipelog.Field{Key: "job", Value: "nightly"}, pipelog.Field{Key: "message", Value: "nope"})
	pipelog.Emit(context.Background(), child, BadRequestReceived{Base: event.Info("x")})
	pipelog.Emit(context.Background(), log, BadRequestReceived{Base: event.Info("y")})
	lines := decode(t, mem)
	require.Len(t, lines, 2)
	assert.Equal(t, "eu-1", field(lines[0], "cloud.region"))
	assert.Equal(t, "nightly", field(lines[0], "labels.job"))
	assert.Nil(t, field(lines[1], "labels.job"), "With does not change the parent")
	assert.Contains(t, field(lines[0], "log.origin.file.name"), "pipelog_test.go")
	assert.Equal(t, "github.com/pipelog/pipelog_test.TestWithFieldsAndCaller", field(lines[0], "log.origin.function"))
	assert.Greater(t, field(lines[0], "process.thread.id"), 0.0)
	require.Len(t, *errs, 1, "a With field on a library field is reported")
	assert.Contains(t, (*errs)[0].Error(), `"message" is written by pipelog`)
}

func TestNewValidates(t *testing.T) {
	_, err := pipelog.New(pipelog.Config{})
	assert.ErrorIs(t, err, pipelog.ErrNoService)
	_, err = pipelog.New(pipelog.Config{Service: "x", Sinks: []sink.Sink{nil}})
	assert.Error(t, err)
}
