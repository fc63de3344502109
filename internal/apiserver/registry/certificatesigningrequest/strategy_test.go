package certificatesigningrequest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

func request(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func valid(t *testing.T) *csr {
	return &csr{Spec: certificatesv1.CertificateSigningRequestSpec{Request: request(t), SignerName: "example.com/s",
		Usages: []certificatesv1.KeyUsage{"client auth"}}}
}

func TestValidate(t *testing.T) {
	approved := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Status: "True"}
	denied := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Status: "True"}
	for name, tc := range map[string]struct {
		mutate func(*csr)
		want   string
	}{
		"valid": {func(*csr) {}, ""},
		"serving": {func(c *csr) {
			c.Spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
		}, ""},
		"unknown usage": {func(c *csr) { c.Spec.Usages = []certificatesv1.KeyUsage{"server"} }, `spec.usages[0]: Unsupported value: "server"`},
		"no usages":     {func(c *csr) { c.Spec.Usages = nil }, "spec.usages: Required value"},
		"no signer":     {func(c *csr) { c.Spec.SignerName = "" }, "spec.signerName: Required value"},
		"legacy":        {func(c *csr) { c.Spec.SignerName = LegacyUnknownSigner }, "the legacy signerName is not allowed via this API version"},
		"bad domain":    {func(c *csr) { c.Spec.SignerName = "Ex_ample/s" }, `spec.signerName: Invalid value: "Ex_ample"`},
		"both":          {func(c *csr) { c.Status.Conditions = append(c.Status.Conditions, approved, denied) }, "status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"},
		"false status": {func(c *csr) {
			c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: "Failed", Status: "False"})
		}, `status.conditions[0].status: Unsupported value: "False": supported values: "True"`},
		"cert": {func(c *csr) { c.Status.Certificate = []byte("x") }, `status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block`},
	} {
		c := valid(t)
		tc.mutate(c)
		errs := validate(c, options{})
		if got := errs.ToAggregate(); (tc.want == "") != (got == nil) || (got != nil && !strings.Contains(got.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", name, got, tc.want)
		}
	}
}

func TestPrepareForCreateStampsUser(t *testing.T) {
	c := valid(t)
	c.Spec.Username, c.Status.Conditions = "mallory", []certificatesv1.CertificateSigningRequestCondition{{Type: "Approved", Status: "True"}}
	ctx := authn.WithUser(context.Background(), authn.User{Name: "system:bootstrap:abcdef", UID: "u", Groups: []string{"system:bootstrappers"},
		Extra: map[string][]string{"k": {"v"}}})
	PrepareForCreate(ctx, c)
	if c.Spec.Username != "system:bootstrap:abcdef" || c.Spec.UID != "u" || c.Spec.Groups[0] != "system:bootstrappers" ||
		c.Spec.Extra["k"][0] != "v" || c.Status.Conditions != nil {
		t.Errorf("after create: %+v %+v", c.Spec, c.Status)
	}
}

func TestUpdatePaths(t *testing.T) {
	old := valid(t)
	c := old.DeepCopy()
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: "Approved", Status: "True"}}
	prepareForStatusUpdate(context.Background(), c, old)
	if len(c.Status.Conditions) != 0 {
		t.Errorf("status update kept an Approved condition: %+v", c.Status.Conditions)
	}
	c = old.DeepCopy()
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: "Approved", Status: "True"}}
	c.Status.Certificate = []byte("x")
	Approval().Prepare(context.Background(), c, old)
	if len(c.Status.Conditions) != 1 || c.Status.Certificate != nil || c.Status.Conditions[0].LastUpdateTime.IsZero() {
		t.Errorf("approval update: %+v", c.Status)
	}
	if errs := Approval().Validate(context.Background(), c, old); len(errs) != 0 {
		t.Errorf("approval: %v", errs)
	}
	if errs := validateUpdate(c, old, options{}); len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), `updates may not add a condition of type "Approved"`) {
		t.Errorf("main update adding Approved: %v", errs)
	}
}
