package sink_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/pipelogslog"
	"github.com/pipelog/pipelog/pipelogzap"
	"github.com/pipelog/pipelog/sink"
)

// entryRecorder keeps a copy of every entry a Logger hands it.
type entryRecorder struct {
	mu      sync.Mutex
	entries []sink.Entry
}

func (r *entryRecorder) WriteEntry(e *sink.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *e
	c.Line = bytes.Clone(e.Line)
	c.ID = bytes.Clone(e.ID)
	r.entries = append(r.entries, c)
	return nil
}

func (r *entryRecorder) Write([]byte) error          { return errors.New("entryRecorder: Write called") }
func (r *entryRecorder) Flush(context.Context) error { return nil }
func (r *entryRecorder) Close(context.Context) error { return nil }

type Order struct {
	ID    string
	Lines []OrderLine
}

type OrderLine struct {
	SKU string
	Qty int
}

// OrderRejected exercises what the console renders: escapes, nested
// objects, arrays, maps, numbers of every kind.
type OrderRejected struct {
	event.Base
	Path    string `ecs:"url.path"`
	Tenant  string
	Note    string
	Order   Order
	Tags    []string
	Counts  map[string]int
	Ratio   float64
	Big     uint64
	Neg     int8
	Tiny    float32
	Missing *Order
}

type lowercaseName struct {
	event.Base
	Attrs struct{ X int }
}

// loggerEntries emits a range of typed, slog and zap lines and returns
// the entries the Logger handed to its sinks.
func loggerEntries(t *testing.T) []sink.Entry {
	t.Helper()
	rec := &entryRecorder{}
	ns := 0
	log, err := pipelog.New(pipelog.Config{
		Service: "orders-etl",
		Level:   event.LevelDebug - 4,
		Sinks:   []sink.Sink{rec},
		// Nanoseconds the line drops: the console must show the line's time.
		Now: func() time.Time {
			ns += 999
			return time.Date(2026, 11, 26, 10, 0, 0, 123456000+ns, time.UTC)
		},
	})
	require.NoError(t, err)

	ctx := logctx.WithTrace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	texts := []string{
		"plain", "two words", "", "quote \" backslash \\ equals =",
		"é ü 日本 😀", "line\u2028separator\u2029", "tab\tnewline\ncr\r", "\x1b[31mred\x1b[0m", "bell\a del\x7f c1\u0085",
		"invalid \xff utf-8", "<html>&amp;</html>",
	}
	for i, s := range texts {
		pipelog.Emit(ctx, log, OrderRejected{
			Base:   event.Warn(s).WithErr(event.WithStack(errors.New("credit: " + s))).WithReason(s),
			Path:   "/v1/orders/" + s,
			Tenant: s,
			Note:   s,
			Order:  Order{ID: s, Lines: []OrderLine{{SKU: s, Qty: i}, {SKU: "b", Qty: -i}}},
			Tags:   []string{s, "x y"},
			Counts: map[string]int{s: i, "k": 1},
			Ratio:  float64(i) / 7,
			Big:    math.MaxUint64,
			Neg:    math.MinInt8,
			Tiny:   1e-7,
		})
	}
	pipelog.Emit(context.Background(), log, OrderRejected{Base: event.Error("no context"), Ratio: math.Inf(1)})
	pipelog.Emit(context.Background(), log, lowercaseName{Base: event.Info("lower-case type")})
	for l := event.LevelDebug - 3; l <= event.LevelError+3; l++ {
		pipelog.Emit(context.Background(), log, OrderRejected{Base: event.Base{Level: l, Message: l.String()}})
	}

	sl := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	for _, s := range texts {
		sl.Log(ctx, slog.LevelInfo+2, s, "k", s, slog.Group("g", "a", 1, slog.Group("h", "b", s)),
			"err", errors.New(s), "f", 1.5, "list", []int{1, 2})
	}
	sl.With("w", "with").WithGroup("grp").Debug("grouped", "x", true)

	zl := zap.New(pipelogzap.NewCore(log))
	defer zl.Sync()
	for _, s := range texts {
		zl.Warn(s, zap.String("k", s), zap.Int("n", 3), zap.Error(errors.New(s)),
			zap.Strings("list", []string{s}), zap.Namespace("ns"), zap.Float64("f", 2.5))
	}
	zl.DPanic("dpanic")

	require.NoError(t, log.Close(context.Background()))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.entries)
	return rec.entries
}

// TestConsoleEntryMatchesWrite checks that a Logger's line comes out the
// same through WriteEntry (time, level and name from the entry), through
// Write (everything from the line) and through the previous
// encoding/json-based implementation.
func TestConsoleEntryMatchesWrite(t *testing.T) {
	entries := loggerEntries(t)
	for _, format := range []string{"15:04:05.000", time.RFC3339Nano} {
		for _, color := range []sink.ColorMode{sink.ColorNever, sink.ColorAlways} {
			var viaEntry, viaWrite bytes.Buffer
			ce := sink.NewConsole(&viaEntry, sink.ConsoleConfig{Color: color, TimeFormat: format})
			cw := sink.NewConsole(&viaWrite, sink.ConsoleConfig{Color: color, TimeFormat: format})
			for i := range entries {
				e := &entries[i]
				viaEntry.Reset()
				viaWrite.Reset()
				require.NoError(t, ce.WriteEntry(e))
				require.NoError(t, cw.Write(e.Line))
				prev := sink.PreviousConsoleFormat(nil, e.Line, color == sink.ColorAlways, format)
				require.Equal(t, string(prev), viaWrite.String(), "Write, line %q", e.Line)
				require.Equal(t, viaWrite.String(), viaEntry.String(), "WriteEntry, line %q", e.Line)
			}
		}
	}
}

// TestConsoleEntryShowsWhatItCarries checks that the entry's time, level
// and name are the ones shown: they are not read from the line again.
func TestConsoleEntryShowsWhatItCarries(t *testing.T) {
	var buf bytes.Buffer
	c := sink.NewConsole(&buf, sink.ConsoleConfig{Color: sink.ColorNever, TimeFormat: time.RFC3339})
	line := []byte(`{"@timestamp":"2000-01-01T00:00:00.000000Z","log.level":"debug","message":"m","event":{"action":"FromLine"},"Pipelog":{"FromEntry":{"a":1},"FromLine":{"b":2}}}` + "\n")
	when := time.Date(2026, 11, 26, 10, 0, 0, 0, time.Local)
	require.NoError(t, c.WriteEntry(&sink.Entry{Line: line, Level: event.LevelError + 1, Time: when, Name: "fromEntry"}))
	assert.Equal(t, when.Format(time.RFC3339)+" ERROR+1 fromEntry m a=1 FromLine.b=2\n", buf.String())

	buf.Reset()
	require.NoError(t, c.Write(line))
	assert.Equal(t, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Local().Format(time.RFC3339)+" DEBUG FromLine m FromEntry.a=1 b=2\n", buf.String())
}

func TestConsoleEntryInvalidLine(t *testing.T) {
	var buf bytes.Buffer
	c := sink.NewConsole(&buf, sink.ConsoleConfig{Color: sink.ColorNever})
	for _, tc := range []struct{ line, want string }{
		{"{\"message\":\"cut\n", "{\"message\":\"cut\n"},
		{"{\"message\":\"\x1b\"}\n", "\"{\\\"message\\\":\\\"\\x1b\\\"}\"\n"},
		{"not json\n", "not json\n"},
		{"{\"a\":1} {\"b\":2}\n", "{\"a\":1} {\"b\":2}\n"},
	} {
		buf.Reset()
		require.NoError(t, c.WriteEntry(&sink.Entry{Line: []byte(tc.line), Level: event.LevelInfo, Time: time.Now(), Name: "X"}))
		assert.Equal(t, tc.want, buf.String(), "line %q", tc.line)
	}
	require.NoError(t, c.Close(context.Background()))
	assert.ErrorIs(t, c.WriteEntry(&sink.Entry{Line: []byte("{}\n")}), sink.ErrClosed)
}
