package apiserver

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

// User is who a request comes from: read from its client certificate (the
// common name is the user, the organizations its groups) or from its
// bearer token.
type User = authn.User

// UserFrom returns the request's user.
func UserFrom(ctx context.Context) (User, bool) {
	return authn.UserFrom(ctx)
}

// publicPath says a path answers without credentials, as upstream's
// system:public-info-viewer role allows.
func publicPath(p string) bool {
	switch p {
	case "/healthz", "/livez", "/readyz", "/version":
		return true
	}
	return false
}

// clusterInfoPath is the ConfigMap a joining node reads before it has
// credentials (kubeadm's discovery).
const clusterInfoPath = "/api/v1/namespaces/kube-public/configmaps/cluster-info"

// anonymousPath says a request without credentials is served as
// system:anonymous and left to authorization, as upstream's anonymous
// authenticator restricted to the paths kubeadm lets anonymous users
// read: the cluster-info ConfigMap (a Role grants it).
func anonymousPath(r *http.Request) bool {
	return r.URL.Path == clusterInfoPath && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

// authenticate finds the request's user: a client certificate the TLS
// listener verified against the cluster CA, else a bearer token. A
// request with a bad token gets 401, even on a public path, as upstream
// answers; one without credentials gets 401 unless the path is public
// (or the server lets anonymous requests through).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := s.requestUser(r)
		switch {
		case err != nil:
			s.cfg.Logger.Debug("authentication failed", "path", r.URL.Path, "err", err)
			writeError(w, apierrors.NewUnauthorized("Unauthorized"))
		case ok:
			next.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), u.WithAuthenticatedGroup())))
		case s.cfg.Anonymous || publicPath(r.URL.Path):
			next.ServeHTTP(w, r)
		case anonymousPath(r):
			next.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), authn.Anonymous())))
		default:
			writeError(w, apierrors.NewUnauthorized("Unauthorized"))
		}
	})
}

// requestUser returns the user of the request's credentials; ok is false
// when it sent none.
func (s *Server) requestUser(r *http.Request) (User, bool, error) {
	if u, ok := certUser(r); ok {
		return u, true, nil
	}
	token, ok := bearerToken(r)
	if !ok {
		return User{}, false, nil
	}
	if s.cfg.Tokens == nil {
		return User{}, false, errNoTokens
	}
	res, err := s.cfg.Tokens.AuthenticateToken(r.Context(), token, nil)
	if err != nil {
		return User{}, false, err
	}
	return res.User, true, nil
}

var errNoTokens = apierrors.NewUnauthorized("bearer tokens are not accepted")

// bearerToken reads "Authorization: Bearer <token>"; an empty token counts
// as none, as upstream's bearer token authenticator does.
func bearerToken(r *http.Request) (string, bool) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// certUser reads a verified client certificate: CN is the user (none if
// empty), O the groups, and its SHA-256 the credential id.
func certUser(r *http.Request) (User, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return User{}, false
	}
	cert := r.TLS.VerifiedChains[0][0]
	if cert.Subject.CommonName == "" {
		return User{}, false
	}
	return User{
		Name:   cert.Subject.CommonName,
		Groups: cert.Subject.Organization,
		Extra:  map[string][]string{authn.ExtraCredentialID: {certCredentialID(cert)}},
	}, true
}

func certCredentialID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "X509SHA256=" + hex.EncodeToString(sum[:])
}
