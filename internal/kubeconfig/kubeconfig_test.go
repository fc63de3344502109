package kubeconfig

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svcplane/svcplane/internal/pki"
)

var (
	caPEM   = []byte("-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n")
	certPEM = []byte("-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n")
	keyPEM  = []byte("-----BEGIN EC PRIVATE KEY-----\na2V5\n-----END EC PRIVATE KEY-----\n")
)

func TestWriteLoad(t *testing.T) {
	tests := []struct {
		name                       string
		cfg                        Config
		wantCluster, wantUser, ctx string
	}{
		{"defaults", Config{Server: "https://127.0.0.1:6443"}, "svcplane", "admin", "svcplane"},
		{"named", Config{Server: "https://10.0.0.1:6443", ClusterName: "c1", User: "system:node:n1"},
			"c1", "system:node:n1", "c1"},
		{"context", Config{Server: "https://h:1", Context: "ctx"}, "svcplane", "admin", "ctx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.CAData, tt.cfg.CertData, tt.cfg.KeyData = caPEM, certPEM, keyPEM
			path := filepath.Join(t.TempDir(), "sub", "kubeconfig")
			if err := Write(path, tt.cfg); err != nil {
				t.Fatal(err)
			}
			kc, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if kc.CurrentContext != tt.ctx {
				t.Errorf("current-context %q, want %q", kc.CurrentContext, tt.ctx)
			}
			c := kc.Contexts[tt.ctx]
			if c == nil || c.Cluster != tt.wantCluster || c.AuthInfo != tt.wantUser {
				t.Fatalf("context %q = %+v", tt.ctx, c)
			}
			cl, ai := kc.Clusters[tt.wantCluster], kc.AuthInfos[tt.wantUser]
			if cl.Server != tt.cfg.Server || !bytes.Equal(cl.CertificateAuthorityData, caPEM) {
				t.Errorf("cluster = %+v", cl)
			}
			if !bytes.Equal(ai.ClientCertificateData, certPEM) || !bytes.Equal(ai.ClientKeyData, keyPEM) {
				t.Errorf("user = %+v", ai)
			}

			rc, err := RESTConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Host != tt.cfg.Server || !bytes.Equal(rc.CAData, caPEM) ||
				!bytes.Equal(rc.CertData, certPEM) || !bytes.Equal(rc.KeyData, keyPEM) {
				t.Errorf("rest config: host %q CA %q cert %q key %q", rc.Host, rc.CAData, rc.CertData, rc.KeyData)
			}
		})
	}
}

func TestWriteReplacesAndRestrictsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, Config{Server: "https://127.0.0.1:6443"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := RESTConfig(path); err != nil {
		t.Error(err)
	}
}

func TestWriteNeedsServer(t *testing.T) {
	if err := Write(filepath.Join(t.TempDir(), "k"), Config{}); err == nil {
		t.Error("Write without a server succeeded")
	}
}

func TestRESTConfigMissingFile(t *testing.T) {
	if _, err := RESTConfig(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("RESTConfig of a missing file succeeded")
	}
}

// TestAdminKubeconfigReachesServer connects through a written kubeconfig
// to an HTTPS server using the pki bundle, as kubectl would.
func TestAdminKubeconfigReachesServer(t *testing.T) {
	b, err := pki.Ensure(t.TempDir(), pki.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.VerifiedChains) == 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, r.TLS.VerifiedChains[0][0].Subject.CommonName)
	}))
	srv.TLS = b.ServerTLSConfig()
	srv.StartTLS()
	defer srv.Close()

	path := filepath.Join(t.TempDir(), "admin.kubeconfig")
	err = Write(path, Config{Server: srv.URL, CAData: b.CAPEM, CertData: b.AdminCertPEM, KeyData: b.AdminKeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(rc.Host + "/whoami")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "admin" {
		t.Errorf("server saw user %q, want admin", body)
	}
}
