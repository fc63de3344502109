package csrsigning

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func testCA(t *testing.T, now time.Time) CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return CA{Cert: cert, Key: key}
}

func request(t *testing.T, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func approvedCSR(signer string, req []byte, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	c := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: signer, Request: req, Usages: usages}}
	c.Name = "r"
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	return c
}

func TestHandle(t *testing.T) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	ca := testCA(t, now)
	node := request(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}})
	withIP := request(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}, IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}})
	alice := request(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}})
	ds, ke, ca1, sa := certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth
	tests := []struct {
		name     string
		csr      *certificatesv1.CertificateSigningRequest
		expSec   *int32
		wantTTL  time.Duration
		wantFail string
		untouch  bool
	}{
		{name: "kubelet client", csr: approvedCSR(certificatesv1.KubeAPIServerClientKubeletSignerName, node, ds, ca1), wantTTL: DefaultDuration},
		{name: "kubelet client RSA usages", csr: approvedCSR(certificatesv1.KubeAPIServerClientKubeletSignerName, node, ds, ke, ca1), expSec: ptr.To[int32](3600), wantTTL: time.Hour},
		{name: "too short is 10m", csr: approvedCSR(certificatesv1.KubeAPIServerClientKubeletSignerName, node, ds, ca1), expSec: ptr.To[int32](60), wantTTL: MinDuration},
		{name: "kubelet client with SAN", csr: approvedCSR(certificatesv1.KubeAPIServerClientKubeletSignerName, withIP, ds, ca1), wantFail: "IP subjectAltNames are not allowed"},
		{name: "kubelet client bad usages", csr: approvedCSR(certificatesv1.KubeAPIServerClientKubeletSignerName, node, ds, sa), wantFail: "usages did not match [client auth digital signature key encipherment]"},
		{name: "not a node", csr: approvedCSR(certificatesv1.KubeAPIServerClientKubeletSignerName, alice, ds, ca1), wantFail: "subject organization is not system:nodes"},
		{name: "serving", csr: approvedCSR(certificatesv1.KubeletServingSignerName, withIP, ds, sa), wantTTL: DefaultDuration},
		{name: "serving without SAN", csr: approvedCSR(certificatesv1.KubeletServingSignerName, node, ds, sa), wantFail: "DNS or IP subjectAltName is required"},
		{name: "apiserver client", csr: approvedCSR(certificatesv1.KubeAPIServerClientSignerName, alice, ca1), wantTTL: DefaultDuration},
		{name: "apiserver client server auth", csr: approvedCSR(certificatesv1.KubeAPIServerClientSignerName, alice, ca1, sa), wantFail: "invalid usage for client certificate: server auth"},
		{name: "other signer", csr: approvedCSR("example.com/x", alice, ca1), untouch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.csr.Spec.ExpirationSeconds = tt.expSec
			out, err := Handle(tt.csr, ca, DefaultDuration, now)
			if err != nil {
				t.Fatal(err)
			}
			if tt.untouch {
				if out != nil {
					t.Fatalf("changed a request of another signer: %+v", out.Status)
				}
				return
			}
			if tt.wantFail != "" {
				last := out.Status.Conditions[len(out.Status.Conditions)-1]
				if last.Type != certificatesv1.CertificateFailed || last.Reason != "SignerValidationFailure" || last.Message != tt.wantFail {
					t.Fatalf("condition %+v, want Failed/SignerValidationFailure %q", last, tt.wantFail)
				}
				return
			}
			b, _ := pem.Decode(out.Status.Certificate)
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
				t.Fatal(err)
			}
			if got := cert.NotAfter.Sub(now); got != tt.wantTTL {
				t.Errorf("lives %v, want %v", got, tt.wantTTL)
			}
			if again, _ := Handle(out, ca, DefaultDuration, now); again != nil {
				t.Error("an issued request is signed again")
			}
		})
	}
}

func TestHandleSkips(t *testing.T) {
	now := time.Now()
	ca := testCA(t, now)
	c := approvedCSR(certificatesv1.KubeAPIServerClientSignerName, request(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "a"}}), certificatesv1.UsageClientAuth)
	c.Status.Conditions = nil
	if out, _ := Handle(c, ca, DefaultDuration, now); out != nil {
		t.Error("signed a pending request")
	}
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}}
	if out, _ := Handle(c, ca, DefaultDuration, now); out != nil {
		t.Error("signed a denied request")
	}
}
