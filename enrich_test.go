package pipelog_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
	"github.com/pipelog/pipelog/pipelogslog"
	"github.com/pipelog/pipelog/pipelogzap"
)

// tenantKey is an application's own context key, read by an enricher.
type tenantKey struct{}

func withTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

func tenantEnricher(ctx context.Context, labels []event.Label) []event.Label {
	if t, ok := ctx.Value(tenantKey{}).(string); ok {
		labels = append(labels, event.Label{Key: "tenant", Value: t})
	}
	return labels
}

func stepEnricher(step string) pipelog.Enricher {
	return func(_ context.Context, labels []event.Label) []event.Label {
		return append(labels, event.Label{Key: "job.step", Value: step}, event.Label{Key: "tenant", Value: "from-step"})
	}
}

func TestEnrichers(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{
		Enrichers: []pipelog.Enricher{tenantEnricher, stepEnricher("load")},
		Fields:    []pipelog.Field{{Key: "job.step", Value: "fixed"}, {Key: "region", Value: "eu"}},
	})
	type Tick struct{ event.Base }
	ctx := withTenant(context.Background(), "acme")
	pipelog.Emit(ctx, log, Tick{Base: event.Info("with tenant")})
	pipelog.Emit(context.Background(), log, Tick{Base: event.Info("no tenant")})
	pipelog.Emit(logctx.WithLabel(ctx, "tenant", "from-context"), log, Tick{Base: event.Info("context label wins")})
	pipelog.Emit(nil, log, Tick{Base: event.Info("nil context")}) //nolint:staticcheck // a nil context must not reach an enricher
	require.NoError(t, log.Close(context.Background()))

	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 4)
	want := []map[string]string{
		{"tenant": "acme", "job_step": "load", "region": "eu"},
		{"tenant": "from-step", "job_step": "load", "region": "eu"},
		{"tenant": "from-context", "job_step": "load", "region": "eu"},
		{"tenant": "from-step", "job_step": "load", "region": "eu"},
	}
	for i, w := range want {
		got := testlog.At(lines[i], "labels")
		require.IsType(t, map[string]any{}, got, "line %d", i)
		labels := got.(map[string]any)
		assert.Len(t, labels, len(w), "line %d: %v", i, labels)
		for k, v := range w {
			assert.Equal(t, v, labels[k], "line %d labels.%s", i, k)
		}
	}
}

// TestEnricherPanics: a panicking enricher is recovered, counted, reported
// once; the line is written with the other enrichers' labels.
func TestEnricherPanics(t *testing.T) {
	boom := func(_ context.Context, labels []event.Label) []event.Label {
		labels = append(labels, event.Label{Key: "half", Value: "done"})
		panic("enricher bug")
	}
	log, mem, errs := testlog.Logger(t, pipelog.Config{Enrichers: []pipelog.Enricher{boom, stepEnricher("load")}})
	type Tick struct{ event.Base }
	for range 3 {
		pipelog.Emit(context.Background(), log, Tick{Base: event.Info("tick")})
	}
	require.NoError(t, log.Close(context.Background()))
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 3)
	for _, l := range lines {
		testlog.WantAt(t, l, "labels.job_step", "load")
		assert.Nil(t, testlog.At(l, "labels.half"), "what the panicking call added is left out")
	}
	assert.Equal(t, uint64(3), log.Stats().EnricherPanics)
	got := errs()
	require.Len(t, got, 1, "reported once: %v", got)
	assert.Contains(t, got[0].Error(), "Config.Enrichers[0] panicked")
	assert.Contains(t, got[0].Error(), "enricher bug")
}

// TestEnrichersSlog: the slog adapter's lines are enriched too.
func TestEnrichersSlog(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{Enrichers: []pipelog.Enricher{tenantEnricher}})
	sl := slog.New(pipelogslog.NewHandler(log, pipelogslog.Config{}))
	sl.InfoContext(withTenant(context.Background(), "acme"), "hello", "k", "v")
	require.NoError(t, log.Close(context.Background()))
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	testlog.WantAt(t, lines[0], "labels.tenant", "acme")
	assert.True(t, strings.Contains(string(mem.Bytes()), `"Attrs":{"k":"v"}`), "%s", mem.Bytes())
}

// TestEnrichersZap: so are the zap adapter's, from pipelogzap.Context.
func TestEnrichersZap(t *testing.T) {
	log, mem, _ := testlog.Logger(t, pipelog.Config{Enrichers: []pipelog.Enricher{tenantEnricher}})
	zl := zap.New(pipelogzap.NewCore(log))
	zl.Info("hello", pipelogzap.Context(withTenant(context.Background(), "acme")))
	require.NoError(t, log.Close(context.Background()))
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1)
	testlog.WantAt(t, lines[0], "labels.tenant", "acme")
}
