package elasticsearch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestElasticsearchCredentialsNeverPrinted(t *testing.T) {
	const user, pass, apiKey = "elastic", "Sup3r-S3cret-Pa55", "QVBJLUtFWS1TRUNSRVQtVkFMVUU="
	// A server that echoes the Authorization header back in its error body.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"bad credentials %s (url %s)"},"status":401}`, r.Header.Get("Authorization"), r.URL.String())
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	cases := map[string]Config{
		"basic auth":   {Addresses: []string{srv.URL}, Username: user, Password: pass},
		"api key":      {Addresses: []string{srv.URL}, APIKey: apiKey},
		"url userinfo": {Addresses: []string{"http://" + user + ":" + pass + "@" + u.Host}},
		"unreachable":  {Addresses: []string{"http://" + user + ":" + pass + "@" + freeAddr(t)}, APIKey: apiKey},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			dl, el := &memSink{}, &errLog{}
			base := fastConfig("", dl, el)
			base.Addresses, base.Username, base.Password, base.APIKey = cfg.Addresses, cfg.Username, cfg.Password, cfg.APIKey
			s, err := New(base)
			require.NoError(t, err)
			for i := range 20 {
				require.NoError(t, s.Write(testDoc("cred", i)))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			closeErr := s.Close(ctx)
			var all strings.Builder
			all.WriteString(el.joined())
			if closeErr != nil {
				all.WriteString(closeErr.Error())
			}
			all.WriteString(s.Stats().String())
			all.WriteString(fmt.Sprintf("%+v", s.Stats()))
			dl.mu.Lock()
			for _, l := range dl.lines {
				all.Write(l)
			}
			nDL := len(dl.lines)
			dl.mu.Unlock()
			out := all.String()
			require.NotEmpty(t, el.joined(), "errors were reported")
			assert.Equal(t, 20, nDL)
			for _, secret := range []string{pass, apiKey, "ZWxhc3RpYzpTdXAzci1TM2NyZXQtUGE1NQ=="} {
				assert.NotContains(t, out, secret)
			}
			t.Log(strings.SplitN(el.joined(), "\n", 2)[0])
		})
	}
	// invalid config errors do not leak either
	_, err := New(Config{Addresses: []string{"http://u:" + pass + "@[::1"}, Password: pass})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), pass)
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Addresses: []string{"http://127.0.0.1:1"}, CloudID: "x:eA=="})
	assert.Error(t, err)
	_, err = New(Config{Addresses: []string{"http://127.0.0.1:1"}, CompressionLevel: 42})
	assert.Error(t, err)
	_, err = New(Config{Addresses: []string{"http://127.0.0.1:1"}, Index: `bad"index`})
	assert.Error(t, err)
}

func TestElasticsearchTLSVerifiedByDefault(t *testing.T) {
	fake := esfake.NewTLS()
	defer fake.Close()
	cert := fake.Certificate()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	sum := sha256.Sum256(cert.Raw)
	fingerprint := hex.EncodeToString(sum[:])

	send := func(t *testing.T, mod func(*Config), run string) (*errLog, int) {
		dl, el := &memSink{}, &errLog{}
		cfg := fastConfig(fake.URL, dl, el)
		mod(&cfg)
		s, err := New(cfg)
		require.NoError(t, err)
		for i := range 10 {
			require.NoError(t, s.Write(testDoc(run, i)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Flush(ctx)
		_ = s.Close(ctx)
		n := 0
		for id := range fake.IDs() {
			if strings.HasPrefix(id, run+"-") {
				n++
			}
		}
		return el, n
	}
	t.Run("untrusted certificate is refused", func(t *testing.T) {
		el, n := send(t, func(*Config) {}, "untrusted")
		assert.Zero(t, n)
		assert.Contains(t, el.joined(), "certificate")
	})
	t.Run("CACert", func(t *testing.T) {
		_, n := send(t, func(c *Config) { c.CACert = caPEM }, "ca")
		assert.Equal(t, 10, n)
	})
	t.Run("CertificateFingerprint", func(t *testing.T) {
		_, n := send(t, func(c *Config) { c.CertificateFingerprint = fingerprint }, "fp")
		assert.Equal(t, 10, n)
	})
	t.Run("wrong fingerprint is refused", func(t *testing.T) {
		el, n := send(t, func(c *Config) { c.CertificateFingerprint = strings.Repeat("ab", 32) }, "badfp")
		assert.Zero(t, n)
		assert.NotEmpty(t, el.joined())
	})
}

func TestElasticsearchCloudID(t *testing.T) {
	// Cloud ID "name:base64(host$es-uuid$kibana-uuid)" resolves to https://es-uuid.host.
	cloudID := "deploy:" + base64.StdEncoding.EncodeToString([]byte("127.0.0.1:1$esuuid$kbuuid"))
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("", dl, el)
	cfg.Addresses = nil
	cfg.CloudID = cloudID
	cfg.APIKey = "c2VjcmV0LWFwaS1rZXk="
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Write(testDoc("cloud", 1)))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
	assert.Contains(t, el.joined(), "esuuid.127.0.0.1", "Cloud ID decoded into the node address")
	assert.NotContains(t, el.joined(), cfg.APIKey)
}
