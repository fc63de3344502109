package csrapproving

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
)

func nodeCSR(t *testing.T, cn, requestor, signer string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	c := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
		Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), SignerName: signer, Username: requestor,
		Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}}}
	c.Name = "node-csr-x"
	return c
}

func TestDecide(t *testing.T) {
	kubelet := certificatesv1.KubeAPIServerClientKubeletSignerName
	tests := []struct {
		name    string
		csr     *certificatesv1.CertificateSigningRequest
		allow   map[string]bool
		wantMsg string
		wantErr error
		asked   []string
	}{
		{name: "bootstrap", csr: nodeCSR(t, "system:node:n1", "system:bootstrap:abcdef", kubelet), allow: map[string]bool{"nodeclient": true},
			wantMsg: "Auto approving kubelet client certificate after SubjectAccessReview.", asked: []string{"nodeclient"}},
		{name: "renewal", csr: nodeCSR(t, "system:node:n1", "system:node:n1", kubelet), allow: map[string]bool{"selfnodeclient": true},
			wantMsg: "Auto approving self kubelet client certificate after SubjectAccessReview.", asked: []string{"selfnodeclient"}},
		{name: "not permitted", csr: nodeCSR(t, "system:node:n1", "alice", kubelet), wantErr: ErrNotPermitted, asked: []string{"nodeclient"}},
		{name: "other signer", csr: nodeCSR(t, "system:node:n1", "system:bootstrap:abcdef", certificatesv1.KubeAPIServerClientSignerName), allow: map[string]bool{"nodeclient": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			review := func(_ context.Context, _ *certificatesv1.CertificateSigningRequest, sub string) (bool, error) {
				asked = append(asked, sub)
				return tt.allow[sub], nil
			}
			out, err := Decide(context.Background(), tt.csr, Recognizers(), review)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if len(asked) != len(tt.asked) || (len(asked) > 0 && asked[len(asked)-1] != tt.asked[len(tt.asked)-1]) {
				t.Errorf("reviews %v, want ending with %v", asked, tt.asked)
			}
			if tt.wantMsg == "" {
				if out != nil {
					t.Fatalf("approved: %+v", out.Status)
				}
				return
			}
			c := out.Status.Conditions[0]
			if c.Type != certificatesv1.CertificateApproved || c.Reason != "AutoApproved" || c.Message != tt.wantMsg {
				t.Errorf("condition %+v", c)
			}
			if again, _ := Decide(context.Background(), out, Recognizers(), review); again != nil {
				t.Error("approved twice")
			}
		})
	}
}
