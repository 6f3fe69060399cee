package pipelog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/testlog"
)

var envVars = []string{pipelog.EnvOTelServiceName, pipelog.EnvOTelResourceAttributes, pipelog.EnvAPMServiceName,
	pipelog.EnvAPMEnvironment, pipelog.EnvAPMServiceVersion, pipelog.EnvAPMServiceNodeName, pipelog.EnvLevel}

// setEnv clears every variable ConfigFromEnv reads, then sets env.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range envVars {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func TestConfigFromEnvPrecedence(t *testing.T) {
	apm := map[string]string{
		pipelog.EnvAPMServiceName: "apm-svc", pipelog.EnvAPMEnvironment: "apm-env",
		pipelog.EnvAPMServiceVersion: "0.1.0", pipelog.EnvAPMServiceNodeName: "apm-node",
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		cfg  pipelog.Config
		want pipelog.Config
	}{
		{"nothing set", nil, pipelog.Config{}, pipelog.Config{}},
		{"elastic apm only", apm, pipelog.Config{},
			pipelog.Config{Service: "apm-svc", Environment: "apm-env", Version: "0.1.0", NodeName: "apm-node"}},
		{"resource attributes beat elastic apm",
			with(apm, pipelog.EnvOTelResourceAttributes,
				"service.name=res-svc,service.version=2.0.0,deployment.environment.name=prod,service.instance.id=pod-7"),
			pipelog.Config{},
			pipelog.Config{Service: "res-svc", Environment: "prod", Version: "2.0.0", NodeName: "pod-7"}},
		{"OTEL_SERVICE_NAME beats service.name",
			with(apm, pipelog.EnvOTelServiceName, "otel-svc", pipelog.EnvOTelResourceAttributes, "service.name=res-svc"),
			pipelog.Config{},
			pipelog.Config{Service: "otel-svc", Environment: "apm-env", Version: "0.1.0", NodeName: "apm-node"}},
		{"the older deployment.environment is read too",
			map[string]string{pipelog.EnvOTelResourceAttributes: "deployment.environment=staging"}, pipelog.Config{},
			pipelog.Config{Environment: "staging"}},
		{"deployment.environment.name beats deployment.environment",
			map[string]string{pipelog.EnvOTelResourceAttributes: "deployment.environment=old,deployment.environment.name=new"},
			pipelog.Config{}, pipelog.Config{Environment: "new"}},
		{"explicit config beats everything",
			with(apm, pipelog.EnvOTelServiceName, "otel-svc", pipelog.EnvLevel, "debug"),
			pipelog.Config{Service: "mine", Environment: "dev", Version: "9", NodeName: "n", Level: event.LevelWarn},
			pipelog.Config{Service: "mine", Environment: "dev", Version: "9", NodeName: "n", Level: event.LevelWarn}},
		{"level", map[string]string{pipelog.EnvLevel: " WARN+2 "}, pipelog.Config{}, pipelog.Config{Level: event.LevelWarn + 2}},
		{"level debug replaces the zero level", map[string]string{pipelog.EnvLevel: "debug"},
			pipelog.Config{Level: event.LevelInfo}, pipelog.Config{Level: event.LevelDebug}},
		{"percent-decoding, spaces trimmed, '+' kept, empty members skipped",
			map[string]string{pipelog.EnvOTelResourceAttributes: " service.name = a%2Cb%3Dc ,, service.version=1.0+build%207 ,"},
			pipelog.Config{}, pipelog.Config{Service: "a,b=c", Version: "1.0+build 7"}},
		{"a value may contain '='", map[string]string{pipelog.EnvOTelResourceAttributes: "service.instance.id=a=b"},
			pipelog.Config{}, pipelog.Config{NodeName: "a=b"}},
		{"other attributes ignored", map[string]string{pipelog.EnvOTelResourceAttributes: "k8s.pod.name=x,host.name=y"},
			pipelog.Config{}, pipelog.Config{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			setEnv(t, c.env)
			got, err := pipelog.ConfigFromEnv(c.cfg)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestConfigFromEnvErrorsNameTheVariable(t *testing.T) {
	for _, c := range []struct {
		name, attrs, level string
		wantVar            []string
		wantMsg            []string
	}{
		{name: "unknown level", level: "verbose", wantVar: []string{pipelog.EnvLevel}, wantMsg: []string{`"verbose" is not a level`}},
		{name: "member without =", attrs: "service.name=a,oops", wantVar: []string{pipelog.EnvOTelResourceAttributes},
			wantMsg: []string{"member 2 has no '='"}},
		{name: "empty key", attrs: "=x", wantVar: []string{pipelog.EnvOTelResourceAttributes}, wantMsg: []string{"member 1 has an empty key"}},
		{name: "bad escape", attrs: "service.version=50%", wantVar: []string{pipelog.EnvOTelResourceAttributes},
			wantMsg: []string{"member 1 (service.version): value is not percent-encoded"}},
		{name: "both", attrs: "x", level: "loud", wantVar: []string{pipelog.EnvOTelResourceAttributes, pipelog.EnvLevel}},
	} {
		t.Run(c.name, func(t *testing.T) {
			setEnv(t, map[string]string{pipelog.EnvOTelResourceAttributes: c.attrs, pipelog.EnvLevel: c.level,
				pipelog.EnvAPMServiceName: "apm-svc"})
			cfg, err := pipelog.ConfigFromEnv(pipelog.Config{})
			require.Error(t, err)
			for _, v := range c.wantVar {
				assert.Contains(t, err.Error(), "pipelog: "+v+": ")
			}
			for _, m := range c.wantMsg {
				assert.Contains(t, err.Error(), m)
			}
			var ee *pipelog.EnvError
			require.True(t, errors.As(err, &ee), "%T is not an *EnvError", err)
			// What could be read still is; a malformed resource attribute
			// list is ignored whole, so service.name=a is not taken.
			assert.Equal(t, "apm-svc", cfg.Service)
			assert.Equal(t, event.LevelInfo, cfg.Level)
		})
	}
}

// TestConfigFromEnvReachesTheLine: the values land on the ECS service.*
// fields of every line.
func TestConfigFromEnvReachesTheLine(t *testing.T) {
	setEnv(t, map[string]string{
		pipelog.EnvOTelServiceName:        "orders-etl",
		pipelog.EnvOTelResourceAttributes: "service.version=1.4.2,deployment.environment.name=prod,service.instance.id=orders-etl-7f9c",
		pipelog.EnvLevel:                  "debug",
	})
	cfg, err := pipelog.ConfigFromEnv(pipelog.Config{})
	require.NoError(t, err)
	log, mem, _ := testlog.Logger(t, cfg)
	type Tick struct{ event.Base }
	pipelog.Emit(context.Background(), log, Tick{Base: event.Debug("tick")})
	require.NoError(t, log.Close(context.Background()))
	lines := testlog.Lines(t, mem)
	require.Len(t, lines, 1, "the debug event is written: PIPELOG_LEVEL=debug")
	for path, want := range map[string]string{"service.name": "orders-etl", "service.version": "1.4.2",
		"service.environment": "prod", "service.node.name": "orders-etl-7f9c", "log.level": "debug"} {
		testlog.WantAt(t, lines[0], path, want)
	}
	assert.False(t, strings.Contains(string(mem.Bytes()), "OTEL"))
}
