package kafka_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/pipelog/pipelog/sink/kafka"
)

// selfSigned returns a certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestTLSVerifiedByDefault: a broker whose certificate the system roots do
// not vouch for is refused; with its CA in CACert, records are delivered.
func TestTLSVerifiedByDefault(t *testing.T) {
	cert, caPEM := selfSigned(t)
	c := newCluster(t, kfake.SeedTopics(1, "logs"), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))

	s, _, errs := newSink(t, c.ListenAddrs(), kafka.Config{EnableTLS: true})
	if err := s.Write([]byte(`{"message":"m"}`)); err != nil {
		t.Fatal(err)
	}
	_ = s.Flush(ctxTimeout(t, 500*time.Millisecond))
	if st := s.Stats(); st.Delivered != 0 {
		t.Errorf("delivered to an unverified broker: %v", st)
	}
	if !strings.Contains(errs.all(), "certificate") {
		t.Errorf("the refused certificate was not reported: %q", errs.all())
	}
	_ = s.Close(ctxTimeout(t, 100*time.Millisecond))

	s2, _, _ := newSink(t, c.ListenAddrs(), kafka.Config{CACert: caPEM})
	if err := s2.Write([]byte(`{"message":"m"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s2.Flush(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("flush over verified TLS: %v (%v)", err, s2.Stats())
	}
	if st := s2.Stats(); st.Delivered != 1 {
		t.Errorf("stats %v", st)
	}
}
