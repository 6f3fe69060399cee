package elasticsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Permanent failures: retrying cannot fix them, the configuration (or the
// cluster's) must change. Each is reported once, with what to fix. Without
// a disk queue the events of the failed request are dead-lettered at once
// (each later batch is still tried once, so a fix on the cluster side is
// picked up); with one they stay on disk, and delivery is tried again
// once per RetryBackoffMax until it works or the sink closes.

// ErrPermanent is wrapped by the errors of permanent failures (errors.Is).
var ErrPermanent = errors.New("sink: elasticsearch: permanent failure")

const dlPermanent = "pipelog_permanent_failure"

// permanentReason returns what failed and what to fix, or "" when the
// outcome is not a permanent failure.
func (s *Sink) permanentReason(out esOutcome) string {
	if out.err != nil {
		return tlsReason(out.err)
	}
	switch out.status {
	case http.StatusUnauthorized:
		return "HTTP 401: authentication failed (" + errorReason(out.body) + "); fix: check APIKey, ServiceToken or Username/Password (or the user in the address)"
	case http.StatusForbidden:
		return "HTTP 403: the credentials lack a privilege (" + errorReason(out.body) + "); fix: grant create_doc (or create) and auto_configure on " + s.index
	case http.StatusNotFound:
		return "HTTP 404 on " + s.bulkURL + " (" + errorReason(out.body) + "); fix: check BulkPath and the addresses' path (a proxy prefix?)"
	}
	return ""
}

func tlsReason(err error) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &he):
		return "TLS verification failed: " + he.Error() + "; fix: use the host name the certificate names in Addresses"
	case errors.As(err, &ua), errors.As(err, &cv):
		return "TLS verification failed: " + err.Error() + "; fix: set CACert (the cluster's CA, e.g. http_ca.crt) or CertificateFingerprint"
	case errors.As(err, &ci):
		return "TLS verification failed: " + ci.Error() + "; fix: renew the server certificate or the system clock"
	case strings.Contains(err.Error(), "CertificateFingerprint"):
		return "TLS verification failed: " + err.Error() + "; fix: set CertificateFingerprint to the SHA-256 of the cluster's certificate"
	}
	return ""
}

// halt records a permanent failure and reports it the first time.
func (s *Sink) halt(reason string) {
	err := fmt.Errorf("%w: %s", ErrPermanent, s.redact(errors.New(reason)).Error())
	if s.haltV.CompareAndSwap(nil, &err) {
		s.onError(err)
	}
}

// haltErr is the permanent failure the sink is in, or nil.
func (s *Sink) haltErr() error {
	if p := s.haltV.Load(); p != nil {
		return *p
	}
	return nil
}

// Check verifies, with one request to the cluster's root, that the
// address answers, the credentials are accepted and the server is
// Elasticsearch (the X-Elastic-Product header). Call it at start-up to fail
// fast on a wrong configuration; a server that only speaks _bulk (such as
// VictoriaLogs) fails the product check. Its errors wrap ErrPermanent for
// a configuration to fix, and never contain credentials.
func (s *Sink) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return err
	}
	res, err := s.client.Perform(req)
	if err != nil {
		if r := tlsReason(err); r != "" {
			return s.redact(fmt.Errorf("%w: %s", ErrPermanent, r))
		}
		return s.redact(fmt.Errorf("sink: elasticsearch: check: %w", err))
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: HTTP 404 on GET / (%s); fix: check Addresses and BulkPath (a proxy prefix?)", ErrPermanent, errorReason(body))
	}
	if r := s.permanentReason(esOutcome{status: res.StatusCode, body: body}); r != "" {
		return s.redact(fmt.Errorf("%w: %s", ErrPermanent, r))
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("sink: elasticsearch: check: HTTP %d: %s", res.StatusCode, errorReason(body))
	}
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return fmt.Errorf("%w: the server is not Elasticsearch (no X-Elastic-Product header on GET /); fix: check Addresses", ErrPermanent)
	}
	return nil
}
