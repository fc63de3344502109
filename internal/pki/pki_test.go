package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func mustEnsure(t *testing.T, dir string, cfg Config) *Bundle {
	t.Helper()
	b, err := Ensure(dir, cfg)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return b
}

func parsePEM(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEnsureGenerates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	b := mustEnsure(t, dir, Config{ExtraSANs: []string{"192.0.2.7", "api.example.com"}})

	for _, p := range []string{b.Paths.CAKey, b.Paths.ServerKey, b.Paths.AdminKey} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	ca := parsePEM(t, readFile(t, b.Paths.CACert))
	if !ca.IsCA || ca.NotAfter.Sub(ca.NotBefore) < 9*365*24*time.Hour {
		t.Errorf("CA: IsCA=%v validity %v", ca.IsCA, ca.NotAfter.Sub(ca.NotBefore))
	}

	srv := b.ServerCertificate()
	wantDNS := []string{"api.example.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "localhost"}
	gotDNS := slices.Sorted(slices.Values(srv.DNSNames))
	if !slices.Equal(gotDNS, wantDNS) {
		t.Errorf("DNS SANs = %v, want %v", gotDNS, wantDNS)
	}
	for _, ip := range []string{"127.0.0.1", "::1", "10.96.0.1", "192.0.2.7"} {
		if err := srv.VerifyHostname(ip); err != nil {
			t.Errorf("serving cert: %v", err)
		}
	}
	opts := x509.VerifyOptions{Roots: b.CAPool, DNSName: "kubernetes.default.svc",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := srv.Verify(opts); err != nil {
		t.Errorf("serving cert does not verify: %v", err)
	}
}

func TestClientCerts(t *testing.T) {
	b := mustEnsure(t, t.TempDir(), Config{})
	nodeCert, nodeKey, err := b.NodeCert("n1")
	if err != nil {
		t.Fatal(err)
	}
	ctlCert, ctlKey, err := b.ClientCert("system:svcplane-controllers", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		cert, key  []byte
		wantCN     string
		wantGroups []string
	}{
		{"admin", b.AdminCertPEM, b.AdminKeyPEM, "admin", []string{"system:masters"}},
		{"node", nodeCert, nodeKey, "system:node:n1", []string{"system:nodes"}},
		{"component", ctlCert, ctlKey, "system:svcplane-controllers", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parsePEM(t, tt.cert)
			if c.Subject.CommonName != tt.wantCN || !slices.Equal(c.Subject.Organization, tt.wantGroups) {
				t.Errorf("subject CN=%q O=%v, want CN=%q O=%v", c.Subject.CommonName, c.Subject.Organization, tt.wantCN, tt.wantGroups)
			}
			opts := x509.VerifyOptions{Roots: b.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			if _, err := c.Verify(opts); err != nil {
				t.Errorf("does not chain to the CA: %v", err)
			}
			if _, err := tls.X509KeyPair(tt.cert, tt.key); err != nil {
				t.Errorf("key pair: %v", err)
			}
		})
	}
}

func TestReloadKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, Config{ExtraSANs: []string{"node1"}})
	second := mustEnsure(t, dir, Config{ExtraSANs: []string{"node1"}})
	if !bytes.Equal(first.CAPEM, second.CAPEM) {
		t.Error("CA changed on reload")
	}
	if !bytes.Equal(first.AdminCertPEM, second.AdminCertPEM) {
		t.Error("admin cert changed on reload")
	}
	if !first.ServerCertificate().Equal(second.ServerCertificate()) {
		t.Error("serving cert changed on reload")
	}
}

func TestSANChangeRegeneratesServingCert(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, Config{})
	second := mustEnsure(t, dir, Config{ExtraSANs: []string{"10.0.0.5"}})
	if !bytes.Equal(first.CAPEM, second.CAPEM) {
		t.Fatal("CA changed")
	}
	if first.ServerCertificate().Equal(second.ServerCertificate()) {
		t.Fatal("serving cert not regenerated")
	}
	if err := second.ServerCertificate().VerifyHostname("10.0.0.5"); err != nil {
		t.Error(err)
	}
	onDisk := parsePEM(t, readFile(t, second.Paths.ServerCert))
	if !onDisk.Equal(second.ServerCertificate()) {
		t.Error("new serving cert not written")
	}
	if !bytes.Equal(first.AdminCertPEM, second.AdminCertPEM) {
		t.Error("admin cert changed though only SANs did")
	}
}

func TestRenewsLeafNearExpiry(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, Config{})
	later := func() time.Time { return time.Now().Add(leafValidity - renewBefore/2) }
	second := mustEnsure(t, dir, Config{Now: later})
	if !bytes.Equal(first.CAPEM, second.CAPEM) {
		t.Error("CA changed")
	}
	if bytes.Equal(first.AdminCertPEM, second.AdminCertPEM) {
		t.Error("admin cert close to expiry was kept")
	}
}

func TestRefusesHalfCA(t *testing.T) {
	dir := t.TempDir()
	b := mustEnsure(t, dir, Config{})
	if err := os.Remove(b.Paths.CAKey); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(dir, Config{}); err == nil {
		t.Fatal("Ensure replaced a CA whose key is missing")
	}
}

// TestServerTLSConfig runs an HTTPS server with the config and checks that
// a client with the admin cert is verified and one without gets through
// the handshake with no peer certificate.
func TestServerTLSConfig(t *testing.T) {
	b := mustEnsure(t, t.TempDir(), Config{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, r.TLS.VerifiedChains[0][0].Subject.CommonName)
	}))
	srv.TLS = b.ServerTLSConfig()
	srv.StartTLS()
	defer srv.Close()

	adminPair, err := tls.X509KeyPair(b.AdminCertPEM, b.AdminKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		certs    []tls.Certificate
		wantCode int
		wantBody string
	}{
		{"admin", []tls.Certificate{adminPair}, http.StatusOK, "admin"},
		{"anonymous", nil, http.StatusUnauthorized, "anonymous\n"},
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: b.CAPool, Certificates: tt.certs, ServerName: "localhost",
			}}}
			resp, err := client.Get("https://127.0.0.1:" + port + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode || string(body) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}
