package elasticsearch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelog/pipelog/sink/elasticsearch"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{elasticsearch.EnvURL, elasticsearch.EnvCloudID, elasticsearch.EnvAPIKey, elasticsearch.EnvUsername,
		elasticsearch.EnvPassword, elasticsearch.EnvServiceToken, elasticsearch.EnvCACert} {
		t.Setenv(k, "")
	}
}

func TestConfigFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("ELASTICSEARCH_URL", "https://a:9200, https://b:9200")
	t.Setenv("ELASTICSEARCH_USERNAME", "elastic")
	t.Setenv("ELASTICSEARCH_PASSWORD", "s3cret")
	cfg, err := elasticsearch.ConfigFromEnv(elasticsearch.Config{Dataset: "x"})
	if err != nil || len(cfg.Addresses) != 2 || cfg.Addresses[1] != "https://b:9200" || cfg.Username != "elastic" || cfg.Password != "s3cret" || cfg.Dataset != "x" {
		t.Fatalf("%+v %v", cfg, err)
	}
	// What the program sets wins.
	cfg, err = elasticsearch.ConfigFromEnv(elasticsearch.Config{CloudID: "", Addresses: []string{"http://mine:9200"}, Username: "me"})
	if err != nil || len(cfg.Addresses) != 1 || cfg.Addresses[0] != "http://mine:9200" || cfg.Username != "me" {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestConfigFromEnvBadValues(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, env, value, want string
	}{
		{"url", "ELASTICSEARCH_URL", "ftp://user:hunter2@x", "ELASTICSEARCH_URL"},
		{"cloud id", "ELASTIC_CLOUD_ID", "nocolon", "ELASTIC_CLOUD_ID"},
		{"api key in Filebeat's format", "ELASTIC_API_KEY", "id:hunter2", "ELASTIC_API_KEY"},
		{"missing CA", "ELASTICSEARCH_CA_CERT", filepath.Join(dir, "missing.pem"), "ELASTICSEARCH_CA_CERT"},
		{"CA without a certificate", "ELASTICSEARCH_CA_CERT", notPEM, "no PEM certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(c.env, c.value)
			_, err := elasticsearch.ConfigFromEnv(elasticsearch.Config{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want an error with %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes a credential: %v", err)
			}
		})
	}
	clearEnv(t)
	t.Setenv("ELASTICSEARCH_URL", "https://a:9200")
	t.Setenv("ELASTIC_CLOUD_ID", "x:eA==")
	if _, err := elasticsearch.ConfigFromEnv(elasticsearch.Config{}); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("%v", err)
	}
}
