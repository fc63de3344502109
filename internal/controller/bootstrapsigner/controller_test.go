package bootstrapsigner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
)

func tokenSecret(name, id, secret string, data map[string]string) *corev1.Secret {
	d := map[string][]byte{"token-id": []byte(id), "token-secret": []byte(secret), "usage-bootstrap-signing": []byte("true")}
	for k, v := range data {
		d[k] = []byte(v)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"}, Type: bootstrapapi.SecretTypeBootstrapToken, Data: d}
}

func TestSigningTokens(t *testing.T) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	got := SigningTokens([]*corev1.Secret{
		tokenSecret("bootstrap-token-abcdef", "abcdef", "0123456789abcdef", nil),
		tokenSecret("bootstrap-token-bbbbbb", "bbbbbb", "0123456789abcdef", map[string]string{"usage-bootstrap-signing": "false"}),
		tokenSecret("bootstrap-token-cccccc", "dddddd", "0123456789abcdef", nil),
		tokenSecret("bootstrap-token-eeeeee", "eeeeee", "0123456789abcdef", map[string]string{"expiration": "2026-12-07T19:00:00Z"}),
	}, now)
	if len(got) != 1 || got["abcdef"] != "0123456789abcdef" {
		t.Errorf("signing tokens %v, want abcdef only", got)
	}
}

func TestDesired(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{"kubeconfig": "content", "jws-kubeconfig-gone00": "stale"}}
	out, err := Desired(cm, map[string]string{"abcdef": "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.Data["jws-kubeconfig-gone00"]; ok {
		t.Error("stale signature kept")
	}
	if !jws.DetachedTokenIsValid(out.Data["jws-kubeconfig-abcdef"], "content", "abcdef", "0123456789abcdef") {
		t.Errorf("signature %q does not verify", out.Data["jws-kubeconfig-abcdef"])
	}
	if again, _ := Desired(out, map[string]string{"abcdef": "0123456789abcdef"}); again != nil {
		t.Error("updated when already signed")
	}
	if none, _ := Desired(&corev1.ConfigMap{}, map[string]string{"abcdef": "0123456789abcdef"}); none != nil {
		t.Error("signed a ConfigMap without kubeconfig")
	}
}
