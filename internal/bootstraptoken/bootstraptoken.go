// Package bootstraptoken is kubeadm's bootstrap tokens: "<id>.<secret>"
// bearer tokens kept as Secrets bootstrap-token-<id> of type
// bootstrap.kubernetes.io/token in kube-system, which authenticate a
// joining node as system:bootstrap:<id> in group system:bootstrappers
// until they expire; and the CA public key pin a joiner checks.
package bootstraptoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

// Names and keys as upstream's cluster-bootstrap defines them.
const (
	SecretType     = corev1.SecretType("bootstrap.kubernetes.io/token")
	SecretPrefix   = "bootstrap-token-"
	Namespace      = "kube-system"
	UserPrefix     = "system:bootstrap:"
	Group          = "system:bootstrappers"
	DefaultGroup   = "system:bootstrappers:kubeadm:default-node-token"
	KeyID          = "token-id"
	KeySecret      = "token-secret"
	KeyExpiration  = "expiration"
	KeyDescription = "description"
	KeyAuth        = "usage-bootstrap-authentication"
	KeySigning     = "usage-bootstrap-signing"
	KeyExtraGroups = "auth-extra-groups"
	// DefaultTTL is kubeadm's token lifetime.
	DefaultTTL = 24 * time.Hour
)

var (
	tokenRE = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)
	groupRE = regexp.MustCompile(`^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`)
	// errInvalid is what a bad bootstrap token gets, as upstream's
	// authenticator answers (it gives no reason to the client).
	errInvalid = errors.New("invalid bootstrap token")
)

// Parse splits a token into id and secret; ok is false if it is not one.
func Parse(token string) (id, secret string, ok bool) {
	m := tokenRE.FindStringSubmatch(token)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Generate returns a new random token.
func Generate() (string, error) {
	id, err := randomString(6)
	if err != nil {
		return "", err
	}
	secret, err := randomString(16)
	if err != nil {
		return "", err
	}
	return id + "." + secret, nil
}

func randomString(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

// NewSecret is the Secret of a token as kubeadm writes it: both usages,
// kubeadm's default group, expiring ttl after now (never if ttl is 0).
func NewSecret(token string, ttl time.Duration, now time.Time) (*corev1.Secret, error) {
	id, secret, ok := Parse(token)
	if !ok {
		return nil, fmt.Errorf("token %q does not match [a-z0-9]{6}.[a-z0-9]{16}", token)
	}
	data := map[string][]byte{
		KeyID: []byte(id), KeySecret: []byte(secret), KeyAuth: []byte("true"), KeySigning: []byte("true"),
		KeyExtraGroups: []byte(DefaultGroup), KeyDescription: []byte("svcplane token create"),
	}
	if ttl > 0 {
		data[KeyExpiration] = []byte(now.Add(ttl).UTC().Format(time.RFC3339))
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SecretPrefix + id, Namespace: Namespace},
		Type: SecretType, Data: data}, nil
}

// CACertHash is kubeadm's discovery pin of a CA: "sha256:" and the hex
// SHA-256 of its SubjectPublicKeyInfo.
func CACertHash(ca *x509.Certificate) string {
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SecretGetter reads a Secret; a missing one is a NotFound error.
type SecretGetter func(ctx context.Context, ns, name string) (*corev1.Secret, error)

// Authenticator checks bootstrap tokens and hands every other token to
// Next (nil: they fail).
type Authenticator struct {
	Secrets SecretGetter
	Next    authn.TokenAuthenticator
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

var _ authn.TokenAuthenticator = (*Authenticator)(nil)

// AuthenticateToken answers a bootstrap token from its Secret, any other
// from Next.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string, audiences []string) (authn.TokenResult, error) {
	id, secret, ok := Parse(token)
	if !ok {
		if a.Next == nil {
			return authn.TokenResult{}, errors.New("invalid bearer token")
		}
		return a.Next.AuthenticateToken(ctx, token, audiences)
	}
	s, err := a.Secrets(ctx, Namespace, SecretPrefix+id)
	if apierrors.IsNotFound(err) {
		return authn.TokenResult{}, errInvalid
	}
	if err != nil {
		return authn.TokenResult{}, err
	}
	u, err := a.check(s, id, secret)
	if err != nil {
		return authn.TokenResult{}, err
	}
	return authn.TokenResult{User: u, Audiences: audiences}, nil
}

// check applies upstream's rules to a token's Secret.
func (a *Authenticator) check(s *corev1.Secret, id, secret string) (authn.User, error) {
	if s.DeletionTimestamp != nil || s.Type != SecretType {
		return authn.User{}, errInvalid
	}
	if subtle.ConstantTimeCompare(s.Data[KeySecret], []byte(secret)) != 1 || string(s.Data[KeyID]) != id {
		return authn.User{}, errInvalid
	}
	if a.expired(s) || string(s.Data[KeyAuth]) != "true" {
		return authn.User{}, errInvalid
	}
	groups, err := extraGroups(s)
	if err != nil {
		return authn.User{}, errInvalid
	}
	return authn.User{Name: UserPrefix + id, Groups: append([]string{Group}, groups...)}, nil
}

func (a *Authenticator) expired(s *corev1.Secret) bool {
	raw, ok := s.Data[KeyExpiration]
	if !ok {
		return false
	}
	exp, err := time.Parse(time.RFC3339, string(raw))
	if err != nil {
		return true
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	return !now().Before(exp)
}

func extraGroups(s *corev1.Secret) ([]string, error) {
	raw := strings.TrimSpace(string(s.Data[KeyExtraGroups]))
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, g := range strings.Split(raw, ",") {
		if !groupRE.MatchString(g) {
			return nil, fmt.Errorf("group %q is not a bootstrap group", g)
		}
		out = append(out, g)
	}
	return out, nil
}
