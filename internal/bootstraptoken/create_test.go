package bootstraptoken

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestJoinCommand(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	line, err := JoinCommand("https://127.0.0.1:6443", "abcdef.0123456789abcdef", caPEM)
	if err != nil {
		t.Fatal(err)
	}
	want := "svcplane join https://127.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash " + CACertHash(ca)
	if line != want || !strings.HasPrefix(CACertHash(ca), "sha256:") || len(CACertHash(ca)) != 7+64 {
		t.Errorf("got %q, want %q", line, want)
	}
	if _, err := JoinCommand("https://x", "abcdef.0123456789abcdef", nil); err == nil {
		t.Error("no CA accepted")
	}
}
