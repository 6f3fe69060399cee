package elasticsearch

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
)

// The connection to the cluster: node addresses, credentials and TLS,
// handed to elastictransport (a pool of nodes with dead-node resurrection,
// no retries: the sink retries per item with its own backoff).

const (
	defaultURL = "http://localhost:9200"
	userAgent  = "pipelog-elasticsearch-sink"
)

// errNotElasticsearch is the outcome of a 2xx answer without the product
// header, before any answer had it: the request may have been processed.
var errNotElasticsearch = errors.New("the server did not identify as Elasticsearch (no X-Elastic-Product header); the request may have been processed")

// newClient returns the client for cfg (defaults applied) and the
// round tripper under it.
func newClient(cfg *Config) (*elastictransport.Client, http.RoundTripper, error) {
	urls, err := nodeURLs(cfg.Addresses, cfg.CloudID)
	if err != nil {
		return nil, nil, err
	}
	tr, err := httpTransport(cfg)
	if err != nil {
		return nil, nil, err
	}
	opts := []elastictransport.Option{
		elastictransport.WithURLs(urls...),
		elastictransport.WithTransport(tr),
		elastictransport.WithUserAgent(userAgent),
		elastictransport.WithDisableRetry(),
	}
	// A node URL's own user and password win over these (per node).
	if cfg.APIKey != "" {
		opts = append(opts, elastictransport.WithAPIKey(cfg.APIKey))
	} else if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, elastictransport.WithBasicAuth(cfg.Username, cfg.Password))
	}
	if cfg.ServiceToken != "" {
		opts = append(opts, elastictransport.WithServiceToken(cfg.ServiceToken))
	}
	client, err := elastictransport.NewClient(opts...)
	return client, tr, err
}

// nodeURLs returns the nodes to send to: addrs, or the node of cloudID, or
// those of ELASTICSEARCH_URL (comma-separated), or http://localhost:9200.
// Errors never quote an address: it may carry a password.
func nodeURLs(addrs []string, cloudID string) ([]*url.URL, error) {
	switch {
	case len(addrs) > 0 && cloudID != "":
		return nil, errors.New("Addresses and CloudID are exclusive")
	case cloudID != "":
		a, err := cloudAddress(cloudID)
		if err != nil {
			return nil, fmt.Errorf("CloudID: %w", err)
		}
		addrs = []string{a}
	case len(addrs) == 0:
		addrs = SplitAddresses(os.Getenv(EnvURL))
		if len(addrs) == 0 {
			addrs = []string{defaultURL}
		}
	}
	urls := make([]*url.URL, 0, len(addrs))
	for i, a := range addrs {
		u, err := url.Parse(strings.TrimRight(a, "/"))
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL
			}
			return nil, fmt.Errorf("address %d: %w", i+1, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("address %d: want http:// or https:// and a host", i+1)
		}
		urls = append(urls, u)
	}
	return urls, nil
}

// SplitAddresses splits a comma-separated list of node URLs, as
// ELASTICSEARCH_URL and the -url flags give them, trimming spaces and
// dropping empty entries.
func SplitAddresses(s string) []string {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// cloudAddress decodes an Elastic Cloud ID, "name:" + base64 of
// "host$es-uuid$kibana-uuid" (the kibana part optional, the host possibly
// with a port), into the node address https://es-uuid.host.
func cloudAddress(id string) (string, error) {
	k := strings.LastIndexByte(id, ':')
	if k < 0 {
		return "", errors.New(`want "name:base64"`)
	}
	data, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(id[k+1:], "="))
	if err != nil {
		return "", fmt.Errorf("not base64: %w", err)
	}
	host, rest, _ := strings.Cut(string(data), "$")
	es, _, _ := strings.Cut(rest, "$")
	if host == "" || es == "" {
		return "", errors.New(`the decoded value is not "host$es-uuid$kibana-uuid"`)
	}
	return "https://" + es + "." + host, nil
}

// httpTransport returns the round tripper: cfg.Transport, or one tuned
// for the workers (a kept-alive connection each). TLS is verified, against
// the system roots or CACert; with CertificateFingerprint, instead, the
// server must present a certificate with that SHA-256.
func httpTransport(cfg *Config) (http.RoundTripper, error) {
	t, ok := cfg.Transport.(*http.Transport)
	switch {
	case cfg.Transport == nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Workers + 1
		t.MaxIdleConns = 4 * (cfg.Workers + 1)
		t.ResponseHeaderTimeout = 0
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	case len(cfg.CACert) == 0 && cfg.CertificateFingerprint == "":
		return cfg.Transport, nil
	case !ok:
		return nil, fmt.Errorf("CACert and CertificateFingerprint need an *http.Transport, not %T", cfg.Transport)
	default:
		t = t.Clone() // the caller's stays as it was
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.TLSClientConfig != nil {
		tc = t.TLSClientConfig.Clone()
	}
	if len(cfg.CACert) > 0 {
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(cfg.CACert) {
			return nil, errors.New("CACert: no PEM certificate in it")
		}
	}
	if cfg.CertificateFingerprint != "" {
		want, err := hex.DecodeString(strings.ReplaceAll(cfg.CertificateFingerprint, ":", ""))
		if err != nil || len(want) != sha256.Size {
			return nil, errors.New("CertificateFingerprint: want the 64 hex digits of a SHA-256")
		}
		tc.InsecureSkipVerify = true // replaced by the fingerprint check
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			for _, c := range cs.PeerCertificates {
				if sum := sha256.Sum256(c.Raw); bytes.Equal(sum[:], want) {
					return nil
				}
			}
			return errors.New("no server certificate matches CertificateFingerprint")
		}
	}
	t.TLSClientConfig = tc
	return t, nil
}
