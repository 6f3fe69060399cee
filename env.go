package pipelog

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/pipelog/pipelog/event"
)

// The environment variables ConfigFromEnv reads.
const (
	EnvOTelServiceName        = "OTEL_SERVICE_NAME"
	EnvOTelResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"
	EnvAPMServiceName         = "ELASTIC_APM_SERVICE_NAME"
	EnvAPMEnvironment         = "ELASTIC_APM_ENVIRONMENT"
	EnvAPMServiceVersion      = "ELASTIC_APM_SERVICE_VERSION"
	EnvAPMServiceNodeName     = "ELASTIC_APM_SERVICE_NODE_NAME"
	EnvLevel                  = "PIPELOG_LEVEL"
)

// EnvError is a malformed environment variable. Its message names the
// variable; the value is quoted only for PIPELOG_LEVEL (resource attributes
// may carry things an operator would rather not see in a log).
type EnvError struct {
	Var string // the variable's name
	Err error
}

func (e *EnvError) Error() string { return "pipelog: " + e.Var + ": " + e.Err.Error() }
func (e *EnvError) Unwrap() error { return e.Err }

// ConfigFromEnv returns cfg with the fields it leaves empty filled from the
// environment, the way the platform (Kubernetes, an Elastic or
// OpenTelemetry agent's configuration) describes the service:
//
//	Service      OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES, then ELASTIC_APM_SERVICE_NAME
//	Version      service.version in OTEL_RESOURCE_ATTRIBUTES, then ELASTIC_APM_SERVICE_VERSION
//	Environment  deployment.environment.name (or the older deployment.environment) in
//	             OTEL_RESOURCE_ATTRIBUTES, then ELASTIC_APM_ENVIRONMENT
//	NodeName     service.instance.id in OTEL_RESOURCE_ATTRIBUTES, then ELASTIC_APM_SERVICE_NODE_NAME
//	Level        PIPELOG_LEVEL ("debug", "info", "warn", "error", "warn+2"; see event.ParseLevel)
//
// Precedence: a field set in cfg always wins (code states intent; the
// environment fills the gaps), then the OpenTelemetry variables, then the
// Elastic APM agent's, which they supersede in Elastic's own OpenTelemetry
// distributions. Within OpenTelemetry, OTEL_SERVICE_NAME beats service.name in
// OTEL_RESOURCE_ATTRIBUTES, as the OpenTelemetry specification says. An
// empty variable counts as unset. Level is the one exception to "cfg wins":
// its zero value, LevelInfo, cannot be told from unset, so PIPELOG_LEVEL
// replaces cfg.Level when cfg.Level is LevelInfo and is ignored otherwise.
//
// OTEL_RESOURCE_ATTRIBUTES is read as the OpenTelemetry specification
// defines it: comma-separated key=value members, spaces around keys and
// values trimmed, values percent-decoded ("a%2Cb" is "a,b"; '+' stays '+').
// Attributes other than the four above are ignored.
//
// A malformed variable (an unknown level, a member without '=' or with an
// empty key, a bad percent escape) is an *EnvError naming it; as the
// specification asks, a malformed OTEL_RESOURCE_ATTRIBUTES is ignored as a
// whole. The returned Config holds everything that could be read, so a
// caller may report the error and go on. Errors of several variables are
// joined.
func ConfigFromEnv(cfg Config) (Config, error) {
	var errs []error
	res, err := resourceAttributes(os.Getenv(EnvOTelResourceAttributes))
	if err != nil {
		errs = append(errs, &EnvError{Var: EnvOTelResourceAttributes, Err: err})
	}
	fill := func(dst *string, vals ...string) {
		for _, v := range vals {
			if *dst != "" {
				return
			}
			*dst = v
		}
	}
	fill(&cfg.Service, os.Getenv(EnvOTelServiceName), res["service.name"], os.Getenv(EnvAPMServiceName))
	fill(&cfg.Version, res["service.version"], os.Getenv(EnvAPMServiceVersion))
	fill(&cfg.Environment, res["deployment.environment.name"], res["deployment.environment"], os.Getenv(EnvAPMEnvironment))
	fill(&cfg.NodeName, res["service.instance.id"], os.Getenv(EnvAPMServiceNodeName))
	if s := os.Getenv(EnvLevel); s != "" && cfg.Level == event.LevelInfo {
		l, err := event.ParseLevel(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, &EnvError{Var: EnvLevel, Err: fmt.Errorf("%q is not a level (want debug, info, warn or error, optionally with an offset such as warn+2)", s)})
		} else {
			cfg.Level = l
		}
	}
	return cfg, errors.Join(errs...)
}

// resourceAttributes parses the OTEL_RESOURCE_ATTRIBUTES format. A malformed
// value yields no attributes at all and an error that says which member (by
// position, not content) is wrong.
func resourceAttributes(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := make(map[string]string)
	for i, member := range strings.Split(s, ",") {
		if strings.TrimSpace(member) == "" {
			continue // "a=b," and "a=b,,c=d": nothing to read, nothing wrong
		}
		k, v, ok := strings.Cut(member, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("member %d has no '=' (want key=value,key=value)", i+1)
		case k == "":
			return nil, fmt.Errorf("member %d has an empty key", i+1)
		}
		dec, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("member %d (%s): value is not percent-encoded correctly", i+1, k)
		}
		out[k] = dec
	}
	return out, nil
}
