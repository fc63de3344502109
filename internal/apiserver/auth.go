package apiserver

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// User is who a request comes from, read from its client certificate:
// the common name is the user, the organizations its groups.
type User struct {
	Name   string
	Groups []string
}

type userKey struct{}

// UserFrom returns the request's user.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
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

// authenticate lets through requests with a client certificate the TLS
// listener verified against the cluster CA; others get 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := certUser(r); ok {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
			return
		}
		if s.cfg.Anonymous || publicPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, apierrors.NewUnauthorized("Unauthorized"))
	})
}

func certUser(r *http.Request) (User, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return User{}, false
	}
	subject := r.TLS.VerifiedChains[0][0].Subject
	return User{Name: subject.CommonName, Groups: subject.Organization}, true
}
