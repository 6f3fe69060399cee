package elasticsearch

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// The environment variables ConfigFromEnv reads: the names Elastic's own
// tools and clients use.
const (
	EnvURL          = "ELASTICSEARCH_URL"           // comma-separated node URLs
	EnvCloudID      = "ELASTIC_CLOUD_ID"            // an Elastic Cloud deployment's ID
	EnvAPIKey       = "ELASTIC_API_KEY"             // the encoded API key (base64 of id:api_key), as Elasticsearch returns it
	EnvUsername     = "ELASTICSEARCH_USERNAME"      // basic authentication
	EnvPassword     = "ELASTICSEARCH_PASSWORD"      // basic authentication
	EnvServiceToken = "ELASTICSEARCH_SERVICE_TOKEN" // a service account token
	EnvCACert       = "ELASTICSEARCH_CA_CERT"       // a PEM file of the CA that signed the nodes' certificates
)

// ConfigFromEnv returns def with its connection completed from the
// environment, so that a program reaches a secured cluster (HTTPS, an API
// key, a private CA) with no code change. What def sets wins: the nodes
// come from EnvURL only when def has neither Addresses nor CloudID, and
// from EnvCloudID only when EnvURL is empty too; each credential and the
// CA only when def leaves it empty. A bad value is an error naming its
// variable (never quoting a credential): a URL that is not http(s)://host,
// a malformed cloud ID, both EnvURL and EnvCloudID set, an unreadable CA
// file or one without a PEM certificate.
func ConfigFromEnv(def Config) (Config, error) {
	cfg := def
	var errs []error
	url, cloud := strings.TrimSpace(os.Getenv(EnvURL)), strings.TrimSpace(os.Getenv(EnvCloudID))
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		switch {
		case url != "" && cloud != "":
			errs = append(errs, fmt.Errorf("%s and %s are both set: choose one", EnvURL, EnvCloudID))
		case url != "":
			cfg.Addresses = SplitAddresses(url)
			if _, err := nodeURLs(cfg.Addresses, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvURL, err))
			}
		case cloud != "":
			if _, err := cloudAddress(cloud); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvCloudID, err))
			}
			cfg.CloudID = cloud
		}
	}
	keyFrom := "Config.APIKey"
	if def.APIKey == "" {
		keyFrom = EnvAPIKey
	}
	for _, e := range []struct {
		name string
		dst  *string
	}{{EnvAPIKey, &cfg.APIKey}, {EnvUsername, &cfg.Username}, {EnvPassword, &cfg.Password}, {EnvServiceToken, &cfg.ServiceToken}} {
		if v := os.Getenv(e.name); v != "" && *e.dst == "" {
			*e.dst = v
		}
	}
	if strings.Contains(cfg.APIKey, ":") {
		errs = append(errs, fmt.Errorf("%s: want the encoded key (base64 of id:api_key, the \"encoded\" value Elasticsearch returns), not id:api_key, which is Filebeat's format", keyFrom))
	}
	if path := os.Getenv(EnvCACert); path != "" && len(cfg.CACert) == 0 {
		b, err := os.ReadFile(path)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", EnvCACert, err))
		case !hasPEMCertificate(b):
			errs = append(errs, fmt.Errorf("%s: %s holds no PEM certificate", EnvCACert, path))
		default:
			cfg.CACert = b
		}
	}
	return cfg, errors.Join(errs...)
}

func hasPEMCertificate(b []byte) bool {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return false
		}
		if blk.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(blk.Bytes); err == nil {
				return true
			}
		}
	}
}
