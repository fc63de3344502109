package bootstraptoken

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

type fixed map[string]*corev1.Secret

func (f fixed) get(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := f[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

type next struct{}

func (next) AuthenticateToken(context.Context, string, []string) (authn.TokenResult, error) {
	return authn.TokenResult{User: authn.User{Name: "sa"}}, nil
}

func TestAuthenticate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := "abcdef.0123456789abcdef"
	s, err := NewSecret(tok, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	secrets := fixed{"kube-system/bootstrap-token-abcdef": s}
	a := &Authenticator{Secrets: secrets.get, Next: next{}, Now: func() time.Time { return now }}
	res, err := a.AuthenticateToken(context.Background(), tok, nil)
	if err != nil || res.User.Name != "system:bootstrap:abcdef" || len(res.User.Groups) != 2 ||
		res.User.Groups[0] != Group || res.User.Groups[1] != DefaultGroup {
		t.Fatalf("good token: %+v %v", res, err)
	}
	if res, err := a.AuthenticateToken(context.Background(), "not-a-bootstrap-token", nil); err != nil || res.User.Name != "sa" {
		t.Errorf("other token not passed on: %+v %v", res, err)
	}
	for name, mutate := range map[string]func(*corev1.Secret){
		"wrong secret": func(s *corev1.Secret) { s.Data[KeySecret] = []byte("ffffffffffffffff") },
		"wrong type":   func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque },
		"no auth":      func(s *corev1.Secret) { s.Data[KeyAuth] = []byte("yes") },
		"expired":      func(s *corev1.Secret) { s.Data[KeyExpiration] = []byte(now.Format(time.RFC3339)) },
		"bad expiry":   func(s *corev1.Secret) { s.Data[KeyExpiration] = []byte("tomorrow") },
		"bad group":    func(s *corev1.Secret) { s.Data[KeyExtraGroups] = []byte("system:masters") },
		"id mismatch":  func(s *corev1.Secret) { s.Data[KeyID] = []byte("zzzzzz") },
	} {
		bad := s.DeepCopy()
		mutate(bad)
		a.Secrets = fixed{"kube-system/bootstrap-token-abcdef": bad}.get
		if _, err := a.AuthenticateToken(context.Background(), tok, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := a.AuthenticateToken(context.Background(), "zzzzzz.0123456789abcdef", nil); err == nil {
		t.Error("unknown id accepted")
	}
}

func TestGenerateAndHash(t *testing.T) {
	tok, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := Parse(tok); !ok {
		t.Errorf("generated %q does not parse", tok)
	}
	ca := &x509.Certificate{RawSubjectPublicKeyInfo: []byte("spki")}
	sum := sha256.Sum256([]byte("spki"))
	if got := CACertHash(ca); got != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("hash %s", got)
	}
}
