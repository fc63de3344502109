package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"sync"
	"testing"
)

func TestServiceAccountKeyKeptAndShared(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, Config{})
	if first.ServiceAccountKey == nil {
		t.Fatal("no service account key")
	}
	if fi, err := os.Stat(first.Paths.SAKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sa.key: %v %v", fi, err)
	}
	block, _ := pem.Decode(readFile(t, first.Paths.SAPub))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || !first.ServiceAccountKey.PublicKey.Equal(pub) {
		t.Fatalf("sa.pub does not hold the key's public half: %v", err)
	}
	second := mustEnsure(t, dir, Config{})
	if !first.ServiceAccountKey.Equal(second.ServiceAccountKey) {
		t.Fatal("key changed on reload")
	}
}

// TestServiceAccountKeyConcurrentStarts: servers starting together on one
// directory all sign with the one key that ends up on disk.
func TestServiceAccountKeyConcurrentStarts(t *testing.T) {
	dir := t.TempDir()
	mustEnsure(t, dir, Config{}) // the CA, so that only the SA key races
	if err := os.Remove(pathsIn(dir).SAKey); err != nil {
		t.Fatal(err)
	}
	keys := make([][]byte, 4)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &Bundle{Paths: pathsIn(dir)}
			if err := b.ensureServiceAccountKey(); err != nil {
				t.Error(err)
				return
			}
			keys[i] = x509.MarshalPKCS1PrivateKey(b.ServiceAccountKey)
		}()
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("server %d has another key", i)
		}
	}
}

func TestServingCertCoversTheKubernetesService(t *testing.T) {
	b := mustEnsure(t, t.TempDir(), Config{ServiceIP: net.ParseIP("10.200.0.1"), ClusterDomain: "corp.example"})
	cert := b.ServerCertificate()
	for _, name := range []string{"10.200.0.1", "127.0.0.1", "localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.corp.example"} {
		if err := cert.VerifyHostname(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
