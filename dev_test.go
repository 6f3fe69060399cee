package pipelog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

func TestDevelopmentConfig(t *testing.T) {
	cfg := pipelog.DevelopmentConfig("orders-etl")
	assert.Equal(t, "orders-etl", cfg.Service)
	assert.Equal(t, event.LevelDebug, cfg.Level)
	assert.True(t, cfg.Caller)
	require.Len(t, cfg.Sinks, 1)
	assert.IsType(t, &sink.Console{}, cfg.Sinks[0])

	log, err := pipelog.NewDevelopment("orders-etl")
	require.NoError(t, err)
	assert.True(t, log.Enabled(event.LevelDebug))
	require.NoError(t, log.Close(context.Background()))

	_, err = pipelog.NewDevelopment("")
	assert.ErrorIs(t, err, pipelog.ErrNoService)
}
