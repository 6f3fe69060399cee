package elasticsearch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
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
			// Long enough for one answer on a loaded machine under -race
			// (300ms was not, twice); the unreachable case takes all of it.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
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
	const addr = "http://127.0.0.1:1"
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"Addresses and CloudID":  {Config{Addresses: []string{addr}, CloudID: "x:eA=="}, "exclusive"},
		"compression level":      {Config{Addresses: []string{addr}, CompressionLevel: 42}, "compression level"},
		"index name":             {Config{Addresses: []string{addr}, Index: `bad"index`}, "index name"},
		"no scheme":              {Config{Addresses: []string{"localhost:9200"}}, "address 1: want http:// or https://"},
		"second address":         {Config{Addresses: []string{addr, "ftp://h"}}, "address 2"},
		"CloudID without colon":  {Config{CloudID: "eA=="}, "CloudID"},
		"CloudID not base64":     {Config{CloudID: "x:!!!"}, "not base64"},
		"CloudID without uuid":   {Config{CloudID: "x:" + base64.StdEncoding.EncodeToString([]byte("host"))}, "host$es-uuid"},
		"CACert not PEM":         {Config{Addresses: []string{addr}, CACert: []byte("not a certificate")}, "CACert"},
		"fingerprint not sha256": {Config{Addresses: []string{addr}, CertificateFingerprint: "abcd"}, "CertificateFingerprint"},
		"CACert, foreign Transport": {Config{Addresses: []string{addr}, CACert: []byte("x"), Transport: roundTripperFunc(nil)},
			"need an *http.Transport"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "sink: elasticsearch: "), err.Error())
		})
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCloudAddress(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	tests := []struct{ id, want string }{
		{"prod:" + enc([]byte("eu-west-1.aws.found.io$abc123$def456")), "https://abc123.eu-west-1.aws.found.io"},
		{"prod:" + enc([]byte("eu-west-1.aws.found.io:9243$abc123$def456")), "https://abc123.eu-west-1.aws.found.io:9243"},
		{"prod:" + enc([]byte("example.com$es")), "https://es.example.com"},
		{"a:b:" + enc([]byte("example.com$es$kb")), "https://es.example.com"}, // a name with a colon
		{"prod:" + base64.RawStdEncoding.EncodeToString([]byte("example.com$es1$kb")), "https://es1.example.com"},
	}
	for _, tc := range tests {
		got, err := cloudAddress(tc.id)
		require.NoError(t, err, tc.id)
		assert.Equal(t, tc.want, got, tc.id)
	}
	for _, bad := range []string{"", "nocolon", "x:", "x:%%%", "x:" + enc([]byte("$es$kb")), "x:" + enc([]byte("host$$kb"))} {
		_, err := cloudAddress(bad)
		assert.Error(t, err, bad)
	}
}

func TestNodeURLs(t *testing.T) {
	t.Run("ELASTICSEARCH_URL", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", " http://a:9200/ , https://b:9243,")
		urls, err := nodeURLs(nil, "")
		require.NoError(t, err)
		require.Len(t, urls, 2)
		assert.Equal(t, "http://a:9200", urls[0].String())
		assert.Equal(t, "https://b:9243", urls[1].String())
	})
	t.Run("default", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", "")
		urls, err := nodeURLs(nil, "")
		require.NoError(t, err)
		require.Len(t, urls, 1)
		assert.Equal(t, "http://localhost:9200", urls[0].String())
	})
	t.Run("Addresses win over the environment", func(t *testing.T) {
		t.Setenv("ELASTICSEARCH_URL", "http://env:9200")
		urls, err := nodeURLs([]string{"https://u:p@node:9200/prefix/"}, "")
		require.NoError(t, err)
		require.Len(t, urls, 1)
		assert.Equal(t, "node:9200", urls[0].Host)
		assert.Equal(t, "/prefix", urls[0].Path)
	})
	t.Run("a parse error does not quote the address", func(t *testing.T) {
		_, err := nodeURLs([]string{"http://u:Pa55w0rd-in-url@[::1"}, "")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "Pa55w0rd")
	})
}

// TestElasticsearchAuthorization checks the header each kind of credential
// puts on the bulk request.
func TestElasticsearchAuthorization(t *testing.T) {
	fake := esfake.New()
	defer fake.Close()
	u, err := url.Parse(fake.URL)
	require.NoError(t, err)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := map[string]struct {
		mod  func(*Config)
		want string
	}{
		"none":                    {func(*Config) {}, ""},
		"api key":                 {func(c *Config) { c.APIKey = "a2V5OnNlY3JldA==" }, "APIKey a2V5OnNlY3JldA=="},
		"service token":           {func(c *Config) { c.ServiceToken = "AAEAAWVsYXN0aWM" }, "Bearer AAEAAWVsYXN0aWM"},
		"basic":                   {func(c *Config) { c.Username, c.Password = "elastic", "changeme" }, basic("elastic", "changeme")},
		"api key wins over basic": {func(c *Config) { c.APIKey, c.Username, c.Password = "k", "elastic", "changeme" }, "APIKey k"},
		"url user wins": {func(c *Config) {
			c.Addresses = []string{"http://urluser:urlpass@" + u.Host}
			c.APIKey = "k"
		}, basic("urluser", "urlpass")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dl, el := &memSink{}, &errLog{}
			cfg := fastConfig(fake.URL, dl, el)
			tc.mod(&cfg)
			s, err := New(cfg)
			require.NoError(t, err)
			require.NoError(t, s.Write(testDoc("auth", 1)))
			require.NoError(t, s.Close(context.Background()))
			_, h := fake.LastRequest()
			assert.Equal(t, tc.want, h.Get("Authorization"))
			assert.Equal(t, userAgent, h.Get("User-Agent"))
			assert.Empty(t, el.joined())
		})
	}
}

// countingListener counts the connections accepted.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestElasticsearchConnectionPool checks that requests reuse kept-alive
// connections (a handful, not one per request) and that a dead node is set aside
// while a live one takes the traffic.
func TestElasticsearchConnectionPool(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cl := &countingListener{Listener: l}
	fake := esfake.NewOn(cl)
	defer fake.Close()
	dl, el := &memSink{}, &errLog{}
	cfg := fastConfig("", dl, el)
	cfg.Addresses = []string{"http://" + freeAddr(t), fake.URL}
	cfg.FlushEvents = 10
	s, err := New(cfg)
	require.NoError(t, err)
	const n = 2000
	for i := range n {
		require.NoError(t, s.Write(testDoc("pool", i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.Flush(ctx))
	st := s.Stats()
	require.NoError(t, s.Close(ctx))
	assert.Equal(t, n, fake.Stats().Docs)
	assert.GreaterOrEqual(t, st.Requests, int64(n/10))
	// A worker's next request can start before its connection is back in
	// the idle pool (net/http returns it asynchronously), more often on a
	// loaded machine: allow a few, far fewer than one per request.
	assert.LessOrEqual(t, cl.n.Load(), max(int64(2*cfg.Workers), st.Requests/10), "connections opened for %d requests", st.Requests)
	assert.LessOrEqual(t, st.RequestErrors, int64(cfg.Workers), "the dead node is set aside after a failure")
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
