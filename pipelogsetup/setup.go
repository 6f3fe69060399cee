// Package pipelogsetup is the setup and mappings commands of pipelog, as a
// library: the pipelog CLI runs them for the library's own event types, and
// a program runs them for its own, from a flag of its own:
//
//	func main() {
//		if len(os.Args) > 1 && os.Args[1] == "-setup" {
//			os.Exit(pipelogsetup.Program{Dataset: "orders-etl"}.Setup(ctx, os.Args[2:], os.Stdout, os.Stderr))
//		}
//		…
//	}
//
// A separate program cannot know the Go types another program emits, and
// the mapping is generated from those types; the program itself does
// (esmapping.Register, or Program.Types), so it is the program that knows
// its own setup. `pipelog setup` with no program covers the library's own
// events and leaves every other custom field to the template's dynamic
// rules (keyword strings, no ecs@mappings suffix traps).
//
// Setup reads the connection from flags and from the environment variables
// the Elasticsearch sink's users set (ELASTICSEARCH_URL, ELASTIC_CLOUD_ID,
// ELASTIC_API_KEY, ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD,
// ELASTICSEARCH_SERVICE_TOKEN, ELASTICSEARCH_CA_CERT: a PEM file); flags
// win. Credentials never appear in its output.
package pipelogsetup

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"github.com/pipelog/pipelog/ecs/esmapping"
	"github.com/pipelog/pipelog/sink/elasticsearch"
	"github.com/pipelog/pipelog/sink/elasticsearch/essetup"
)

// Program is what a program knows of its own lines: the data stream they
// go to, and the event types it emits. Its zero value is the pipelog CLI's:
// data stream logs-generic-default, the registered types and the
// library's own.
type Program struct {
	Type, Dataset, Namespace string
	// Types are the program's event types; nil: the registered ones
	// (esmapping.Register) and the library's own.
	Types []reflect.Type
	// Lifecycle is the default lifecycle (flags override it).
	Lifecycle essetup.Lifecycle
	// Connection is the program's connection, what its sink uses: the
	// environment fills what it leaves empty, flags override it.
	Connection elasticsearch.Config
}

// types is Program.Types with the library's own events, which every
// program may emit (RunJob, the HTTP middleware).
func (p Program) types() []reflect.Type {
	if p.Types == nil {
		return nil // esmapping's default: registered + library
	}
	return append(append([]reflect.Type(nil), p.Types...), esmapping.LibraryEvents()...)
}

type setupFlags struct {
	print                   bool
	typ, dataset, namespace string
	retention, rollAge      string
	rollSize                string
	warm, cold              string
	ilm, force              bool
	priority, fieldsLimit   int
	esVersion               string
	attrs                   string
	timeout                 time.Duration
	conn                    ConnFlags
}

// Setup runs `pipelog setup` with args (its flags, without the command's
// name) and returns the exit code: 0 done, 1 failed, 2 bad usage.
func (p Program) Setup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f setupFlags
	fs.BoolVar(&f.print, "print", false, "print every request and JSON body instead of sending them (Kibana Dev Tools format)")
	fs.StringVar(&f.typ, "type", p.Type, "data stream type (only logs)")
	fs.StringVar(&f.dataset, "dataset", p.Dataset, "data stream dataset, sanitised as the sink sanitises it")
	fs.StringVar(&f.namespace, "namespace", p.Namespace, "data stream namespace")
	fs.StringVar(&f.retention, "retention", durFlag(p.Lifecycle.Retention), "delete data this old (30d, 36h); empty: keep forever (logs@lifecycle only rolls over)")
	fs.BoolVar(&f.ilm, "ilm", p.Lifecycle.ILM, "use an ILM policy even where the data stream lifecycle is available (8.14 on)")
	fs.StringVar(&f.rollAge, "rollover-max-age", durFlag(p.Lifecycle.RolloverMaxAge), "ILM: roll over after this age (default 30d)")
	fs.StringVar(&f.rollSize, "rollover-max-size", p.Lifecycle.RolloverMaxPrimaryShardSize, "ILM: roll over at this primary shard size (default 50gb)")
	fs.StringVar(&f.warm, "warm-after", durFlag(p.Lifecycle.WarmAfter), "ILM: move indices to the warm tier this long after rollover")
	fs.StringVar(&f.cold, "cold-after", durFlag(p.Lifecycle.ColdAfter), "ILM: move indices to the cold tier this long after rollover")
	fs.IntVar(&f.priority, "priority", 0, "index template priority (default 250)")
	fs.IntVar(&f.fieldsLimit, "total-fields-limit", 0, "set index.mapping.total_fields.limit (default: Elasticsearch's, 1000)")
	fs.StringVar(&f.esVersion, "es-version", "", "Elasticsearch version to assume instead of asking the cluster (with --print: default "+essetup.Latest.String()+")")
	fs.BoolVar(&f.force, "force", false, "replace templates or a policy of the same names that pipelog did not create")
	fs.StringVar(&f.attrs, "attrs", esmapping.AttrsFlattened, "mapping of Pipelog.Attrs (slog/zap attributes): flattened or dynamic")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long")
	f.conn.Define(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pipelog setup: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg, m, err := p.config(&f)
	if err != nil {
		fmt.Fprintln(stderr, "pipelog setup:", err)
		return 2
	}
	if err := m.Err(); err != nil {
		fmt.Fprintln(stderr, "pipelog setup: the event types cannot be mapped (see pipelog mappings):", err)
		return 1
	}
	if f.print {
		return printBodies(cfg, stdout, stderr)
	}
	conn, err := f.conn.Config(p.Connection)
	if err != nil {
		fmt.Fprintln(stderr, "pipelog setup:", err)
		return 2
	}
	tr, err := elasticsearch.Transport(conn)
	if err != nil {
		fmt.Fprintln(stderr, "pipelog setup:", elasticsearch.Redact(err, conn))
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	res, err := essetup.Setup(ctx, tr, cfg)
	if res != nil {
		report(stdout, res)
	}
	if err != nil {
		fmt.Fprintln(stderr, "pipelog setup:", elasticsearch.Redact(err, conn))
		return 1
	}
	return 0
}

func durFlag(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// config is the essetup.Config and the mappings of the flags.
func (p Program) config(f *setupFlags) (essetup.Config, *esmapping.Mappings, error) {
	var lc essetup.Lifecycle
	for _, d := range []struct {
		flag string
		s    string
		to   *time.Duration
	}{{"retention", f.retention, &lc.Retention}, {"rollover-max-age", f.rollAge, &lc.RolloverMaxAge},
		{"warm-after", f.warm, &lc.WarmAfter}, {"cold-after", f.cold, &lc.ColdAfter}} {
		if d.s == "" {
			continue
		}
		v, err := essetup.ParseDuration(d.s)
		if err != nil {
			return essetup.Config{}, nil, fmt.Errorf("-%s: %w", d.flag, err)
		}
		*d.to = v
	}
	lc.ILM, lc.RolloverMaxPrimaryShardSize = f.ilm, f.rollSize
	m := esmapping.Build(esmapping.Options{Types: p.types(), Attrs: f.attrs})
	cfg := essetup.Config{
		Type: f.typ, Dataset: f.dataset, Namespace: f.namespace,
		Mappings: m.JSON(), Lifecycle: lc, Priority: f.priority, TotalFieldsLimit: f.fieldsLimit,
		Force: f.force, Version: f.esVersion,
		Meta: map[string]any{"ecs_version": esmapping.ECSVersion, "event_types": m.Types},
	}
	return cfg, m, nil
}

func printBodies(cfg essetup.Config, stdout, stderr io.Writer) int {
	v := essetup.Latest
	if cfg.Version != "" {
		var err error
		if v, err = essetup.ParseVersion(cfg.Version); err != nil {
			fmt.Fprintln(stderr, "pipelog setup:", err)
			return 2
		}
	}
	reqs, err := essetup.Bodies(cfg, v)
	if err != nil {
		fmt.Fprintln(stderr, "pipelog setup:", err)
		return 1
	}
	mode, _ := essetup.ModeFor(cfg, v)
	n := essetup.NamesOf(cfg)
	fmt.Fprintf(stdout, "# pipelog setup of data stream %s for Elasticsearch %s (--es-version to choose); lifecycle: %s\n", n.DataStream, v, mode)
	fmt.Fprintf(stdout, "# To an existing data stream, setup also sends its lifecycle, backing index settings and a rollover where they differ.\n")
	for _, r := range reqs {
		fmt.Fprintf(stdout, "\n%s\n", r)
		if r.Body != nil {
			fmt.Fprintf(stdout, "%s\n", r.Body)
		}
	}
	return 0
}

func report(w io.Writer, res *essetup.Result) {
	fmt.Fprintf(w, "Elasticsearch %s: data stream %s, lifecycle: %s\n", res.Version, res.Names.DataStream, res.Mode)
	for _, r := range res.Sent {
		fmt.Fprintf(w, "  sent %s (%s)\n", r, r.Reason)
	}
	for _, u := range res.Unchanged {
		fmt.Fprintf(w, "  unchanged %s\n", u)
	}
	if len(res.Sent) == 0 {
		fmt.Fprintln(w, "  nothing to change")
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// ConnFlags are the connection flags of pipelog's commands (setup, replay),
// the Elasticsearch sink's Config fields.
type ConnFlags struct {
	urls, cloudID, apiKey, user, password, token, caFile, fingerprint string
}

// Define adds the flags to fs.
func (c *ConnFlags) Define(fs *flag.FlagSet) {
	fs.StringVar(&c.urls, "url", "", "Elasticsearch URLs, comma-separated (default $ELASTICSEARCH_URL, else http://localhost:9200)")
	fs.StringVar(&c.cloudID, "cloud-id", "", "Elastic Cloud ID (default $ELASTIC_CLOUD_ID)")
	fs.StringVar(&c.apiKey, "api-key", "", "encoded API key (default $ELASTIC_API_KEY; prefer the variable: flags show in ps)")
	fs.StringVar(&c.user, "username", "", "user (default $ELASTICSEARCH_USERNAME)")
	fs.StringVar(&c.password, "password", "", "password (default $ELASTICSEARCH_PASSWORD; prefer the variable)")
	fs.StringVar(&c.token, "service-token", "", "service token (default $ELASTICSEARCH_SERVICE_TOKEN)")
	fs.StringVar(&c.caFile, "ca-cert", "", "PEM file of the CA to verify the cluster with (default $ELASTICSEARCH_CA_CERT)")
	fs.StringVar(&c.fingerprint, "fingerprint", "", "SHA-256 of the cluster's certificate, instead of a CA")
}

// Config returns def with the flags on top, then what both leave empty
// from the environment (elasticsearch.ConfigFromEnv): flags win over def,
// def over the environment, and a variable a flag replaces is not read.
func (c *ConnFlags) Config(def elasticsearch.Config) (elasticsearch.Config, error) {
	cfg := def
	if c.urls != "" {
		cfg.Addresses, cfg.CloudID = elasticsearch.SplitAddresses(c.urls), ""
	}
	if c.cloudID != "" {
		cfg.CloudID, cfg.Addresses = c.cloudID, nil
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&cfg.APIKey, c.apiKey}, {&cfg.Username, c.user}, {&cfg.Password, c.password},
		{&cfg.ServiceToken, c.token}, {&cfg.CertificateFingerprint, c.fingerprint}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return cfg, fmt.Errorf("-ca-cert: %w", err)
		}
		cfg.CACert = pem
	}
	return elasticsearch.ConfigFromEnv(cfg)
}
