package satoken

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

// errInvalidToken is upstream's answer to a token no authenticator knows.
var errInvalidToken = errors.New("invalid bearer token")

// errInvalidated is upstream's answer to a token whose ServiceAccount or
// bound object is gone.
var errInvalidated = errors.New("service account token has been invalidated")

// claimsView is a token's verified claims.
type claimsView struct {
	public  *jwt.Claims
	private *privateClaims
}

var _ authn.TokenAuthenticator = (*Tokens)(nil)

// AuthenticateToken checks a token's signature, issuer, audiences
// (audiences, or the API audiences if empty), times, and that its
// ServiceAccount and bound object still exist, and returns its user.
func (t *Tokens) AuthenticateToken(ctx context.Context, token string, audiences []string) (authn.TokenResult, error) {
	c, err := t.verify(token)
	if err != nil {
		return authn.TokenResult{}, err
	}
	auds, err := t.matchAudiences(c.public.Audience, audiences)
	if err != nil {
		return authn.TokenResult{}, err
	}
	if err := t.checkTimes(c.public); err != nil {
		return authn.TokenResult{}, err
	}
	if err := t.checkObjects(ctx, c.private.Kubernetes); err != nil {
		return authn.TokenResult{}, err
	}
	return authn.TokenResult{User: userOf(c), Audiences: auds}, nil
}

// verify parses a token of ours and checks its signature and issuer.
func (t *Tokens) verify(token string) (claimsView, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return claimsView{}, errInvalidToken
	}
	var peek jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&peek); err != nil || peek.Issuer != t.cfg.Issuer {
		return claimsView{}, errInvalidToken
	}
	if kid := tok.Headers[0].KeyID; kid != "" && kid != t.kid {
		return claimsView{}, fmt.Errorf("no key with id %q", kid)
	}
	c := claimsView{public: &jwt.Claims{}, private: &privateClaims{}}
	if err := tok.Claims(&t.cfg.Key.PublicKey, c.public, c.private); err != nil {
		return claimsView{}, err
	}
	if c.public.Issuer != t.cfg.Issuer {
		return claimsView{}, fmt.Errorf("token issuer %q is invalid", c.public.Issuer)
	}
	return c, nil
}

// matchAudiences returns the token's audiences that are wanted (a token
// without any counts as the API audiences).
func (t *Tokens) matchAudiences(tokenAuds jwt.Audience, wanted []string) ([]string, error) {
	if len(tokenAuds) == 0 {
		tokenAuds = t.cfg.APIAudiences
	}
	if len(wanted) == 0 {
		wanted = t.cfg.APIAudiences
	}
	var out []string
	for _, a := range tokenAuds {
		if slices.Contains(wanted, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("token audiences %q is invalid for the target audiences %q", []string(tokenAuds), wanted)
	}
	return out, nil
}

// checkTimes checks exp, nbf and iat with upstream's one-minute leeway.
func (t *Tokens) checkTimes(pub *jwt.Claims) error {
	err := pub.ValidateWithLeeway(jwt.Expected{Time: t.cfg.Now()}, jwt.DefaultLeeway)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrExpired):
		return errors.New("service account token has expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return errors.New("service account token is not valid yet")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return errors.New("service account token is issued in the future")
	}
	return err
}

// checkObjects checks that the ServiceAccount and the bound object exist
// with the token's UIDs and have not been deleting for longer than the
// leeway.
func (t *Tokens) checkObjects(ctx context.Context, k kubernetesClaims) error {
	if k.Namespace == "" || k.Svcacct.Name == "" {
		return errors.New("service account token has no service account claim")
	}
	deadline := t.cfg.Now().Add(-jwt.DefaultLeeway)
	sa, err := t.cfg.Objects.ServiceAccount(ctx, k.Namespace, k.Svcacct.Name)
	if err != nil {
		return errInvalidated
	}
	if err := alive("service account", sa.UID, sa.DeletionTimestamp, k.Svcacct, deadline); err != nil {
		return err
	}
	switch {
	case k.Pod != nil:
		return t.checkPod(ctx, k, deadline)
	case k.Secret != nil:
		s, err := t.cfg.Objects.Secret(ctx, k.Namespace, k.Secret.Name)
		if err != nil {
			return errInvalidated
		}
		return alive("secret", s.UID, s.DeletionTimestamp, *k.Secret, deadline)
	case k.Node != nil:
		return t.checkNode(ctx, *k.Node, deadline)
	}
	return nil
}

func (t *Tokens) checkPod(ctx context.Context, k kubernetesClaims, deadline time.Time) error {
	p, err := t.cfg.Objects.Pod(ctx, k.Namespace, k.Pod.Name)
	if err != nil {
		return errInvalidated
	}
	if err := alive("pod", p.UID, p.DeletionTimestamp, *k.Pod, deadline); err != nil {
		return err
	}
	if k.Node != nil && k.Node.UID != "" {
		return t.checkNode(ctx, *k.Node, deadline)
	}
	return nil
}

func (t *Tokens) checkNode(ctx context.Context, r ref, deadline time.Time) error {
	n, err := t.cfg.Objects.Node(ctx, r.Name)
	if err != nil {
		return errInvalidated
	}
	return alive("node", n.UID, n.DeletionTimestamp, r, deadline)
}

// alive checks one object against the token's reference to it.
func alive(kind string, uid types.UID, deleting *metav1.Time, r ref, deadline time.Time) error {
	if deleting != nil && deleting.Time.Before(deadline) {
		return errInvalidated
	}
	if string(uid) != r.UID {
		return fmt.Errorf("%s UID (%s) does not match claim (%s)", kind, uid, r.UID)
	}
	return nil
}
