package workloads

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/testcluster"
)

// TestServiceAccountsAndSecrets: every namespace gets a default
// ServiceAccount, again after it is deleted; kubectl creates and lists
// ServiceAccounts and Secrets with upstream's columns; a TLS Secret
// without its key is refused with upstream's text.
func TestServiceAccountsAndSecrets(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("identity")
	e.waitDefaultSA(ns, "")
	sa, _ := e.Client.CoreV1().ServiceAccounts(ns).Get(e.ctx, "default", metav1.GetOptions{})
	e.kubectl("delete", "serviceaccount", "default", "-n", ns)
	e.waitDefaultSA(ns, sa.UID)

	e.kubectl("create", "serviceaccount", "builder", "-n", ns)
	out := e.kubectl("get", "sa", "-n", ns)
	if !regexp.MustCompile(`^NAME +SECRETS +AGE\nbuilder +0 +\S+\ndefault +0 +\S+\n$`).MatchString(out) {
		t.Errorf("kubectl get sa:\n%s", out)
	}

	e.kubectl("create", "secret", "generic", "creds", "-n", ns, "--from-literal=user=admin", "--from-literal=pass=s3cret")
	got := e.kubectl("get", "secret", "creds", "-n", ns, "-o", "jsonpath={.data.user}")
	if got != base64.StdEncoding.EncodeToString([]byte("admin")) {
		t.Errorf("data.user = %q, want base64 of admin", got)
	}
	out = e.kubectl("get", "secrets", "-n", ns)
	if !regexp.MustCompile(`^NAME +TYPE +DATA +AGE\ncreds +Opaque +2 +\S+\n$`).MatchString(out) {
		t.Errorf("kubectl get secrets:\n%s", out)
	}
	manifest := "apiVersion: v1\nkind: Secret\nmetadata: {name: tls, namespace: " + ns + "}\ntype: kubernetes.io/tls\nstringData: {tls.crt: x}\n"
	_, errOut, err := e.KubectlResult(manifest, "apply", "-f", "-")
	want := `The Secret "tls" is invalid: data[tls.key]: Required value`
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("tls secret without key: err %v, stderr %q, want %q", err, errOut, want)
	}
	out = e.kubectl("get", "secrets", "-n", ns, "--field-selector", "type=Opaque", "-o", "name")
	if out != "secret/creds\n" {
		t.Errorf("field selector type=Opaque: %q", out)
	}
}

// waitDefaultSA waits for the default ServiceAccount of ns, one with
// another uid than notUID.
func (e *env) waitDefaultSA(ns string, notUID types.UID) {
	e.t.Helper()
	e.eventually(10*time.Second, "default serviceaccount in "+ns, func() (bool, string) {
		sa, err := e.Client.CoreV1().ServiceAccounts(ns).Get(e.ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, describe(err, "get")
		}
		return sa.UID != notUID, "uid " + string(sa.UID)
	})
}
