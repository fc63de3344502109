package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
	"github.com/svcplane/svcplane/internal/authz"
)

// impersonation is what a request's Impersonate-* headers ask for.
type impersonation struct {
	user   string
	uid    string
	groups []string
	extra  map[string][]string
}

func readImpersonation(h http.Header) (impersonation, bool) {
	im := impersonation{
		user:   h.Get(authenticationv1.ImpersonateUserHeader),
		uid:    h.Get(authenticationv1.ImpersonateUIDHeader),
		groups: h.Values(authenticationv1.ImpersonateGroupHeader),
	}
	for key, values := range h {
		if !strings.HasPrefix(key, authenticationv1.ImpersonateUserExtraHeaderPrefix) {
			continue
		}
		name := strings.ToLower(strings.TrimPrefix(key, authenticationv1.ImpersonateUserExtraHeaderPrefix))
		if unescaped, err := url.PathUnescape(name); err == nil {
			name = unescaped
		}
		if im.extra == nil {
			im.extra = map[string][]string{}
		}
		im.extra[name] = append(im.extra[name], values...)
	}
	asked := im.user != "" || im.uid != "" || len(im.groups) > 0 || len(im.extra) > 0
	return im, asked
}

// impersonate replaces the request's user with the one its Impersonate-*
// headers name, once the authorizers allow the verb impersonate on each
// part (users or serviceaccounts, groups, uids, userextras/<key>), as
// upstream's impersonation filter does.
func (s *Server) impersonate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		im, asked := readImpersonation(r.Header)
		if !asked {
			next.ServeHTTP(w, r)
			return
		}
		requester, ok := UserFrom(r.Context())
		if !ok {
			writeError(w, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
		if im.user == "" {
			writeError(w, apierrors.NewBadRequest(fmt.Sprintf("requested %s without impersonating a user", im.describe())))
			return
		}
		if s.authz != nil {
			if err := s.checkImpersonation(r.Context(), requester, im); err != nil {
				writeError(w, err)
				return
			}
		}
		for key := range r.Header {
			if strings.HasPrefix(key, "Impersonate-") {
				r.Header.Del(key)
			}
		}
		next.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), im.asUser())))
	})
}

// describe lists what was asked besides a user, for the 400.
func (im impersonation) describe() string {
	var parts []string
	for _, g := range im.groups {
		parts = append(parts, "group "+g)
	}
	if im.uid != "" {
		parts = append(parts, "uid "+im.uid)
	}
	for k, vs := range im.extra {
		for _, v := range vs {
			parts = append(parts, "extra "+k+"="+v)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// checkImpersonation authorizes each impersonated part.
func (s *Server) checkImpersonation(ctx context.Context, requester User, im impersonation) error {
	for _, a := range im.attributes(authzUser(requester)) {
		d, reason, _ := s.authz.chain.Authorize(ctx, a)
		if d != authz.Allow {
			return authz.Forbidden(a, reason)
		}
	}
	return nil
}

// attributes are the impersonate checks of an impersonation.
func (im impersonation) attributes(requester authz.User) []authz.Attributes {
	base := authz.Attributes{User: requester, Verb: "impersonate", ResourceRequest: true}
	var out []authz.Attributes
	user := base
	if ns, name, ok := serviceAccountOf(im.user); ok {
		user.Resource, user.Namespace, user.Name = "serviceaccounts", ns, name
	} else {
		user.Resource, user.Name = "users", im.user
	}
	out = append(out, user)
	for _, g := range im.groups {
		a := base
		a.Resource, a.Name = "groups", g
		out = append(out, a)
	}
	if im.uid != "" {
		a := base
		a.APIGroup, a.Resource, a.Name = authenticationv1.GroupName, "uids", im.uid
		out = append(out, a)
	}
	for key, values := range im.extra {
		for _, v := range values {
			a := base
			a.APIGroup, a.Resource, a.Subresource, a.Name = authenticationv1.GroupName, "userextras", key, v
			out = append(out, a)
		}
	}
	return out
}

// asUser is the impersonated user: a ServiceAccount gets its groups when
// none were asked, and every user but system:anonymous is in
// system:authenticated.
func (im impersonation) asUser() User {
	groups := slices.Clone(im.groups)
	if ns, _, ok := serviceAccountOf(im.user); ok && len(groups) == 0 {
		groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}
	}
	switch {
	case im.user == authz.UserAnonymous:
		if !slices.Contains(groups, authz.GroupUnauthenticated) {
			groups = append(groups, authz.GroupUnauthenticated)
		}
	case !slices.Contains(groups, authz.GroupAuthenticated):
		groups = append(groups, authz.GroupAuthenticated)
	}
	return User{Name: im.user, UID: im.uid, Groups: groups, Extra: im.extra}
}

// serviceAccountOf splits system:serviceaccount:<ns>:<name>.
func serviceAccountOf(user string) (string, string, bool) {
	rest, ok := strings.CutPrefix(user, authz.ServiceAccountPrefix)
	if !ok {
		return "", "", false
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}
