package satoken

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	corev1 "k8s.io/api/core/v1"
)

// Lifetimes of bound tokens, in seconds, as upstream has them.
const (
	// DefaultExpirationSeconds is a TokenRequest's default lifetime.
	DefaultExpirationSeconds = 60 * 60
	// MinExpirationSeconds and MaxExpirationSeconds bound a request.
	MinExpirationSeconds = 10 * 60
	MaxExpirationSeconds = 1 << 32
	// WarnOnlyExpirationSeconds is what kubelet asks for the projected
	// token of a pod: such a token is signed for ExtendedExpirationSeconds
	// with warnafter at the time asked, so that old clients keep working.
	WarnOnlyExpirationSeconds = 60*60 + 7
	ExtendedExpirationSeconds = 24 * 365 * 60 * 60
)

// Objects reads what a token is checked against: the ServiceAccount and
// the object it is bound to. A missing object is an error.
type Objects interface {
	ServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error)
	Pod(ctx context.Context, ns, name string) (*corev1.Pod, error)
	Secret(ctx context.Context, ns, name string) (*corev1.Secret, error)
	Node(ctx context.Context, name string) (*corev1.Node, error)
}

// Config says how tokens are signed and checked.
type Config struct {
	// Key signs tokens (sa.key).
	Key *rsa.PrivateKey
	// Issuer is the iss claim, e.g. https://kubernetes.default.svc.cluster.local.
	Issuer string
	// APIAudiences are the audiences the API server accepts and gives
	// tokens requested without any; [Issuer] if empty.
	APIAudiences []string
	// MaxExpiration, when set, shortens longer requests.
	MaxExpiration time.Duration
	// NoExtendExpiration turns off the one-year signing of pod tokens
	// asked for WarnOnlyExpirationSeconds (on upstream by default).
	NoExtendExpiration bool
	// Objects reads ServiceAccounts and bound objects.
	Objects Objects
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
}

// Tokens issues and checks service account tokens. It is safe for
// concurrent use.
type Tokens struct {
	cfg    Config
	kid    string
	signer jose.Signer
}

// New returns Tokens signing with cfg.Key.
func New(cfg Config) (*Tokens, error) {
	if cfg.Key == nil || cfg.Issuer == "" || cfg.Objects == nil {
		return nil, errors.New("service account tokens need a key, an issuer and an object reader")
	}
	if len(cfg.APIAudiences) == 0 {
		cfg.APIAudiences = []string{cfg.Issuer}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	kid, err := KeyID(&cfg.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Algorithm: string(jose.RS256), Key: cfg.Key, KeyID: kid}}, nil)
	if err != nil {
		return nil, fmt.Errorf("token signer: %w", err)
	}
	return &Tokens{cfg: cfg, kid: kid, signer: signer}, nil
}

// KeyID is upstream's kid of a public key: the unpadded base64url
// SHA-256 of its PKIX DER form.
func KeyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// APIAudiences are the audiences the API server accepts.
func (t *Tokens) APIAudiences() []string { return slices.Clone(t.cfg.APIAudiences) }

// Objects is what tokens are checked against.
func (t *Tokens) Objects() Objects { return t.cfg.Objects }

// Issuer is the tokens' iss claim.
func (t *Tokens) Issuer() string { return t.cfg.Issuer }

// Request is a token to issue, as a TokenRequest asks for it.
type Request struct {
	ServiceAccount *corev1.ServiceAccount
	// Audiences; the API audiences when empty.
	Audiences []string
	// ExpirationSeconds; DefaultExpirationSeconds when zero.
	ExpirationSeconds int64
	Binding           Binding
}

// Issued is a signed token with what the TokenRequest reply says of it.
type Issued struct {
	Token     string
	Audiences []string
	// ExpirationSeconds is the lifetime granted (shortened to the
	// maximum if longer); Expiration when the client should consider it
	// expired (earlier than the JWT's exp for extended tokens).
	ExpirationSeconds int64
	Expiration        time.Time
	Warnings          []string
}

// Issue signs a token for req.
func (t *Tokens) Issue(req Request) (Issued, error) {
	if err := req.Binding.check(); err != nil {
		return Issued{}, err
	}
	out := Issued{Audiences: req.Audiences, ExpirationSeconds: req.ExpirationSeconds}
	if len(out.Audiences) == 0 {
		out.Audiences = t.APIAudiences()
	}
	if out.ExpirationSeconds == 0 {
		out.ExpirationSeconds = DefaultExpirationSeconds
	}
	if maxSec := int64(t.cfg.MaxExpiration / time.Second); maxSec > 0 && out.ExpirationSeconds > maxSec {
		out.Warnings = append(out.Warnings, fmt.Sprintf("requested expiration of %d seconds shortened to %d seconds", out.ExpirationSeconds, maxSec))
		out.ExpirationSeconds = maxSec
	}
	lifetime, warnAfter := time.Duration(out.ExpirationSeconds)*time.Second, time.Duration(0)
	if t.extends(req.Binding, out) {
		warnAfter, lifetime = lifetime, ExtendedExpirationSeconds*time.Second
	}
	now := t.cfg.Now()
	pub, priv := claims(req.ServiceAccount, req.Binding, now, lifetime, warnAfter)
	pub.Issuer = t.cfg.Issuer
	// aud is always a list, as upstream's tokens have it; go-jose's
	// Audience writes a single one as a string.
	aud := struct {
		Audience []string `json:"aud,omitempty"`
	}{out.Audiences}
	token, err := jwt.Signed(t.signer).Claims(pub).Claims(aud).Claims(priv).Serialize()
	if err != nil {
		return Issued{}, fmt.Errorf("sign token: %w", err)
	}
	out.Token = token
	out.Expiration = now.Add(time.Duration(out.ExpirationSeconds) * time.Second)
	return out, nil
}

// extends says whether a token is signed for a year with warnafter at the
// asked time: pod-bound, asked for exactly WarnOnlyExpirationSeconds, and
// for API audiences only, as upstream does.
func (t *Tokens) extends(b Binding, out Issued) bool {
	if t.cfg.NoExtendExpiration || b.Pod == nil || out.ExpirationSeconds != WarnOnlyExpirationSeconds {
		return false
	}
	for _, a := range out.Audiences {
		if !slices.Contains(t.cfg.APIAudiences, a) {
			return false
		}
	}
	return true
}
