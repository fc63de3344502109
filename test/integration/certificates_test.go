package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/bootstraptoken"
	"github.com/svcplane/svcplane/internal/join"
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
// kubeadm writes it, and creates a node CSR as that user (allowed by
// kubeadm's kubeadm:kubelet-bootstrap binding, which the server makes).
func TestBootstrapTokenCSR(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	tok, err := bootstraptoken.Create(ctx, c.Client, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := bootstraptoken.Parse(tok)
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

// TestJoinFlow is kubeadm's join against the server with the certificate
// controllers running: the cluster-info ConfigMap is readable without
// credentials (nothing else is) and signed for the token; discovery checks
// the signature and the CA pin; the node's CSR, made with the token, is
// auto-approved and signed, and its certificate authenticates as
// system:node:<name>. Approving needs the approve verb on the signer.
func TestJoinFlow(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		settings := app.ControllerSettings{ClusterSigningCertFile: c.Server.PKI.Paths.CACert, ClusterSigningKeyFile: c.Server.PKI.Paths.CAKey}
		_ = app.RunControllers(ctx, app.ControllersConfig{RESTConfig: c.RESTConfig, Settings: settings, Logger: slog.New(slog.DiscardHandler)})
	}()
	anon, err := kubernetes.NewForConfig(&rest.Config{Host: c.Server.URL, TLSClientConfig: rest.TLSClientConfig{CAData: c.Server.PKI.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{}); err != nil {
		t.Errorf("anonymous get cluster-info: %v", err)
	}
	if _, err := anon.CoreV1().ConfigMaps("kube-public").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("anonymous list: %v, want Unauthorized", err)
	}
	tok, err := bootstraptoken.Create(ctx, c.Client, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pin := bootstraptoken.CACertHash(caCert(t, c.Server.PKI.CAPEM))
	if _, err := join.Discover(ctx, join.DiscoveryConfig{Server: c.Server.URL, Token: tok, CAHashes: []string{"sha256:00"}, Timeout: 20 * time.Second}); err == nil ||
		!strings.Contains(err.Error(), "none of the public keys") {
		t.Errorf("discovery with a wrong pin: %v", err)
	}
	cluster, err := join.Discover(ctx, join.DiscoveryConfig{Server: c.Server.URL, Token: tok, CAHashes: []string{pin}, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cluster.Server = c.Server.URL
	creds, err := join.RequestNodeCertificate(ctx, cluster, tok, "n9", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	node, err := kubernetes.NewForConfig(&rest.Config{Host: c.Server.URL, TLSClientConfig: rest.TLSClientConfig{
		CAData: c.Server.PKI.CAPEM, CertData: creds.CertPEM, KeyData: creds.KeyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	me, err := node.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || me.Status.UserInfo.Username != "system:node:n9" {
		t.Errorf("the issued certificate: %v %+v", err, me)
	}
	csrs, _ := c.Client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	for _, r := range csrs.Items {
		if cond := r.Status.Conditions; len(cond) != 1 || cond[0].Reason != "AutoApproved" ||
			cond[0].Message != "Auto approving kubelet client certificate after SubjectAccessReview." {
			t.Errorf("csr %s conditions %+v", r.Name, cond)
		}
	}
	checkApproveVerb(t, c)
}

// checkApproveVerb: a user who may update approvals but not approve for
// the signer is refused with upstream's text.
func checkApproveVerb(t *testing.T, c *cluster) {
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "csr-approval"}, Rules: []rbacv1.PolicyRule{{
		Verbs: []string{"get", "update"}, APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"certificatesigningrequests", "certificatesigningrequests/approval"}}}}
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "csr-approval"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "csr-approval"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "carol"}}}
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	signer := "kubernetes.io/kube-apiserver-client"
	r, err := c.Client.CertificatesV1().CertificateSigningRequests().Create(ctx, csrObject("carol-asks", nodeCSR(t, "x"), signer), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Status.Conditions = append(r.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: "True", Reason: "Carol"})
	carol := c.impersonating("carol")
	var uerr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, uerr = carol.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, r.Name, r, metav1.UpdateOptions{}); apierrors.IsForbidden(uerr) && strings.Contains(uerr.Error(), "signerName") {
			break
		}
	}
	want := `certificatesigningrequests.certificates.k8s.io "carol-asks" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"`
	if uerr == nil || uerr.Error() != want {
		t.Errorf("approval without the approve verb: %v, want %q", uerr, want)
	}
}

func caCert(t *testing.T, caPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(caPEM)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// impersonating is an admin client acting as user.
func (c *cluster) impersonating(user string) kubernetes.Interface {
	c.t.Helper()
	rc := rest.CopyConfig(c.RESTConfig)
	rc.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		c.t.Fatal(err)
	}
	return client
}
