package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/svcplane/svcplane/internal/app"
)

// tokenKubeconfig writes a kubeconfig whose only credential is token.
func (c *cluster) tokenKubeconfig(token string) string {
	c.t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: c.Server.URL, CertificateAuthorityData: c.Server.PKI.CAPEM}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u", Namespace: "default"}
	cfg.CurrentContext = "c"
	path := filepath.Join(c.t.TempDir(), "token.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// tokenClient is a client-go clientset with only a bearer token.
func (c *cluster) tokenClient(token string) kubernetes.Interface {
	c.t.Helper()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: c.Server.URL, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.Server.PKI.CAPEM}})
	if err != nil {
		c.t.Fatal(err)
	}
	return client
}

func (c *cluster) createToken(args ...string) string {
	c.t.Helper()
	return strings.TrimSpace(c.kubectl(append([]string{"create", "token"}, args...)...))
}

// whoami runs `kubectl auth whoami` with only token as credential.
func (c *cluster) whoami(token string) (string, string, error) {
	c.t.Helper()
	return c.KubectlResult("", "--kubeconfig", c.tokenKubeconfig(token), "auth", "whoami")
}

func TestServiceAccountTokenWithKubectl(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	c.kubectl("create", "serviceaccount", "x")
	token := c.createToken("x")
	sa, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "x", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	out, errOut, err := c.whoami(token)
	if err != nil {
		t.Fatalf("whoami: %v\n%s%s", err, out, errOut)
	}
	for _, re := range []string{
		`(?m)^ATTRIBUTE\s+VALUE\s*$`,
		`(?m)^Username\s+system:serviceaccount:default:x\s*$`,
		`(?m)^UID\s+` + string(sa.UID) + `\s*$`,
		`(?m)^Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]\s*$`,
		`(?m)^Extra: authentication.kubernetes.io/credential-id\s+\[JTI=[0-9a-f-]{36}\]\s*$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("whoami output lacks %s:\n%s", re, out)
		}
	}

	// A client-go program with only the token.
	ssr, err := c.tokenClient(token).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ssr.Status.UserInfo.Username != "system:serviceaccount:default:x" {
		t.Fatalf("client-go user %+v", ssr.Status.UserInfo)
	}

	// Deleting the ServiceAccount makes the token 401.
	c.kubectl("delete", "serviceaccount", "x")
	_, errOut, err = c.whoami(token)
	if err == nil || !strings.Contains(errOut, "error: You must be logged in to the server (Unauthorized)") {
		t.Fatalf("whoami after delete: %v %s", err, errOut)
	}
	// A new ServiceAccount of that name has another UID: still 401.
	c.kubectl("create", "serviceaccount", "x")
	if _, err := c.tokenClient(token).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("recreated service account: %v", err)
	}
}

func TestAdminWhoami(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	out := c.kubectl("auth", "whoami")
	for _, re := range []string{
		`(?m)^Username\s+admin\s*$`,
		`(?m)^Groups\s+\[system:masters system:authenticated\]\s*$`,
		`(?m)^Extra: authentication.kubernetes.io/credential-id\s+\[X509SHA256=[0-9a-f]{64}\]\s*$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("whoami output lacks %s:\n%s", re, out)
		}
	}
}

func TestTokenRequestOptions(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	c.kubectl("create", "serviceaccount", "x")

	_, errOut, err := c.KubectlResult("", "create", "token", "x", "--duration", "1m")
	want := `error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes`
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("short duration: %v\n%s\nwant %s", err, errOut, want)
	}

	// Another audience: not for the API server, but a TokenReview for
	// that audience accepts it.
	vault := c.createToken("x", "--audience", "vault", "--duration", "2h")
	if _, errOut, err := c.whoami(vault); err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Errorf("other audience: %v %s", err, errOut)
	}
	tr, err := c.Client.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: vault, Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Status.Authenticated || tr.Status.User.Username != "system:serviceaccount:default:x" ||
		strings.Join(tr.Status.Audiences, ",") != "vault" {
		t.Errorf("token review %+v", tr.Status)
	}
	tr, err = c.Client.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: vault}}, metav1.CreateOptions{})
	if err != nil || tr.Status.Authenticated || !strings.Contains(tr.Status.Error, "token audiences") {
		t.Errorf("token review for the API audience: %v %+v", err, tr.Status)
	}

	// The request's own reply: expiration and audiences.
	resp, err := c.Client.CoreV1().ServiceAccounts("default").CreateToken(context.Background(), "x",
		&authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Spec.ExpirationSeconds != 3600 || strings.Join(resp.Spec.Audiences, ",") != app.ServiceAccountIssuer("cluster.local") ||
		time.Until(resp.Status.ExpirationTimestamp.Time) < 59*time.Minute || resp.Name != "x" || resp.Namespace != "default" {
		t.Errorf("token request reply %+v", resp)
	}
}

func TestPodBoundToken(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	c.kubectl("create", "serviceaccount", "x")
	c.kubectl("create", "serviceaccount", "other")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{ServiceAccountName: "x",
		Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := c.KubectlResult("", "create", "token", "other", "--bound-object-kind", "Pod", "--bound-object-name", "p")
	if err == nil || !strings.Contains(errOut, `cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.`) {
		t.Errorf("other service account's pod: %v %s", err, errOut)
	}
	_, errOut, err = c.KubectlResult("", "create", "token", "x", "--bound-object-kind", "Pod", "--bound-object-name", "p", "--bound-object-uid", "nope")
	if err == nil || !strings.Contains(errOut, `Operation cannot be fulfilled on Pod "p": the UID in the bound object reference (nope) does not match`) {
		t.Errorf("wrong uid: %v %s", err, errOut)
	}
	token := c.createToken("x", "--bound-object-kind", "Pod", "--bound-object-name", "p")
	out, errOut, err := c.whoami(token)
	if err != nil || !regexp.MustCompile(`(?m)^Extra: authentication.kubernetes.io/pod-name\s+\[p\]\s*$`).MatchString(out) {
		t.Fatalf("whoami: %v\n%s%s", err, out, errOut)
	}
	if err := c.Client.CoreV1().Pods("default").Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod to go", func() bool {
		_, err := c.Client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := c.tokenClient(token).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("token of a deleted pod: %v", err)
	}
}

// TestBadTokensGetUpstreamStatus: forged and garbage tokens get 401 with
// kube-apiserver's body, even on public paths.
func TestBadTokensGetUpstreamStatus(t *testing.T) {
	c := startCluster(t)
	if _, err := c.Client.CoreV1().ServiceAccounts("default").Create(context.Background(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Client.CoreV1().ServiceAccounts("default").CreateToken(context.Background(), "x", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good := resp.Status.Token
	forged := good[:strings.LastIndex(good, ".")+1] + strings.Repeat("A", 342)
	want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
	for name, token := range map[string]string{"forged": forged, "garbage": "abc"} {
		for _, path := range []string{"/api/v1/namespaces", "/healthz"} {
			code, body := bearerRequest(t, c, path, token)
			if code != http.StatusUnauthorized || strings.TrimSpace(body) != want {
				t.Errorf("%s token on %s: %d %s", name, path, code, body)
			}
		}
	}
	// Authenticated, the token may read discovery (system:discovery); RBAC
	// refuses it the namespaces list.
	if code, body := bearerRequest(t, c, "/apis", good); code != http.StatusOK {
		t.Errorf("good token on /apis: %d %s", code, body)
	}
	if code, body := bearerRequest(t, c, "/api/v1/namespaces", good); code != http.StatusForbidden {
		t.Errorf("good token on /api/v1/namespaces: %d %s, want 403", code, body)
	}
}

func bearerRequest(t *testing.T, c *cluster, path, token string) (int, string) {
	t.Helper()
	cfg := &rest.Config{TLSClientConfig: rest.TLSClientConfig{CAData: c.Server.PKI.CAPEM}}
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, c.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, b.String()
}

func TestAuthenticationDiscovery(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	out := c.kubectl("api-resources", "--api-group", "authentication.k8s.io", "-o", "wide")
	for _, re := range []string{`(?m)^selfsubjectreviews\s+authentication.k8s.io/v1\s+false\s+SelfSubjectReview\s+create\s*$`,
		`(?m)^tokenreviews\s+authentication.k8s.io/v1\s+false\s+TokenReview\s+create\s*$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("api-resources lacks %s:\n%s", re, out)
		}
	}
	res, err := c.Client.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range res.APIResources {
		if r.Name == "serviceaccounts/token" {
			found = r.Group == "authentication.k8s.io" && r.Version == "v1" && r.Kind == "TokenRequest" && strings.Join(r.Verbs, ",") == "create"
		}
	}
	if !found {
		t.Error("discovery does not list serviceaccounts/token as upstream")
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "pki", "sa.key")); err != nil {
		t.Error(err)
	}
	code, body := c.rawRequest(http.MethodGet, "/.well-known/openid-configuration", "", nil, false)
	if code != http.StatusOK || !strings.Contains(body, `"issuer":"https://kubernetes.default.svc.cluster.local"`) {
		t.Errorf("openid configuration: %d %s", code, body)
	}
	if code, body := c.rawRequest(http.MethodGet, "/openid/v1/jwks", "", nil, false); code != http.StatusOK || !strings.Contains(body, `"alg":"RS256"`) {
		t.Errorf("jwks: %d %s", code, body)
	}
}
