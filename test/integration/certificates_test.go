package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/bootstraptoken"
)

// nodeCSR returns a PEM request as a kubelet makes it for node name.
func nodeCSR(t *testing.T, name string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:" + name, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func csrObject(name string, req []byte, signer string) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: req, SignerName: signer, Username: "mallory",
			Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}},
	}
}

// TestCertificateSigningRequests creates CSRs, checks the requestor is
// the caller whatever the body says, upstream's validation texts, the
// Table, and approve/deny with the real kubectl.
func TestCertificateSigningRequests(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	csrs := c.Client.CertificatesV1().CertificateSigningRequests()
	signer := "kubernetes.io/kube-apiserver-client-kubelet"
	got, err := csrs.Create(ctx, csrObject("a", nodeCSR(t, "n1"), signer), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Username != me.Status.UserInfo.Username || got.Spec.Username == "mallory" || len(got.Spec.Groups) == 0 {
		t.Errorf("requestor %q %v, want %q", got.Spec.Username, got.Spec.Groups, me.Status.UserInfo.Username)
	}
	bad := csrObject("b", []byte("junk"), "example")
	ten := int32(300)
	bad.Spec.ExpirationSeconds = &ten
	bad.Spec.Usages = append(bad.Spec.Usages, "client auth", "bogus")
	_, err = csrs.Create(ctx, bad, metav1.CreateOptions{})
	for _, want := range []string{
		`spec.request: Invalid value:`, `PEM block type must be CERTIFICATE REQUEST`,
		`spec.usages[2]: Duplicate value: "client auth"`, `spec.usages[3]: Unsupported value: "bogus"`,
		`spec.signerName: Invalid value: "example": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
		`spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 600 seconds (10 minutes)`,
	} {
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("create invalid: %v, want %q", err, want)
		}
	}
	if _, err := csrs.Create(ctx, csrObject("d", nodeCSR(t, "n2"), signer), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out := c.kubectl("get", "csr")
	if !strings.Contains(out, "NAME   AGE   SIGNERNAME                                    REQUESTOR") ||
		!strings.Contains(out, "REQUESTEDDURATION   CONDITION") || !strings.Contains(out, "<none>              Pending") {
		t.Errorf("get csr:\n%s", out)
	}
	c.kubectl("certificate", "approve", "a")
	c.kubectl("certificate", "deny", "d")
	if _, _, err := c.KubectlResult("", "certificate", "approve", "d"); err == nil {
		t.Error("approve of a denied CSR succeeded")
	}
	a, err := csrs.Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.Status.Conditions); n != 1 || a.Status.Conditions[0].Reason != "KubectlApprove" || a.Status.Conditions[0].LastUpdateTime.IsZero() {
		t.Errorf("conditions after approve: %+v", a.Status.Conditions)
	}
	a.Status.Conditions = nil
	if _, err := csrs.UpdateApproval(ctx, "a", a, metav1.UpdateOptions{}); err == nil ||
		!strings.Contains(err.Error(), `status.conditions: Forbidden: updates may not remove a condition of type "Approved"`) {
		t.Errorf("removing Approved: %v", err)
	}
	out = c.kubectl("get", "csr")
	if !strings.Contains(out, "Approved") || !strings.Contains(out, "Denied") {
		t.Errorf("get csr after approve/deny:\n%s", out)
	}
}

// TestBootstrapTokenCSR authenticates with a bootstrap token Secret as
// kubeadm writes it, and creates a node CSR as that user (allowed by a
// binding like kubeadm's kubeadm:kubelet-bootstrap).
func TestBootstrapTokenCSR(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	tok, err := bootstraptoken.Create(ctx, c.Client, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := bootstraptoken.Parse(tok)
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:kubelet-bootstrap"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "csr-creator"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: bootstraptoken.DefaultGroup}}}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "csr-creator"}, Rules: []rbacv1.PolicyRule{{
		Verbs: []string{"create", "get"}, APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"certificatesigningrequests"}}}}
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	boot := c.tokenClient(tok)
	var got *certificatesv1.CertificateSigningRequest
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err = boot.CertificatesV1().CertificateSigningRequests().Create(ctx,
			csrObject("node-csr-1", nodeCSR(t, "n1"), "kubernetes.io/kube-apiserver-client-kubelet"), metav1.CreateOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Username != "system:bootstrap:"+id || !slices.Contains(got.Spec.Groups, "system:bootstrappers") ||
		!slices.Contains(got.Spec.Groups, bootstraptoken.DefaultGroup) {
		t.Errorf("requestor %q %v", got.Spec.Username, got.Spec.Groups)
	}
	if _, err := c.tokenClient(id+".0000000000000000").CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("wrong secret: %v, want Unauthorized", err)
	}
}
