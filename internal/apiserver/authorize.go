package apiserver

import (
	"context"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/objcache"
	"github.com/svcplane/svcplane/internal/authz"
	"github.com/svcplane/svcplane/internal/authz/node"
	"github.com/svcplane/svcplane/internal/authz/rbac"
)

// authorization is the server's authorizer chain (system:masters, Node,
// RBAC, as kubeadm's Node,RBAC modes) and the object caches it reads.
type authorization struct {
	chain  authz.Authorizer
	rbac   *rbac.Authorizer
	caches []*objcache.Cache
}

// newAuthorization builds the chain over caches of the RBAC resources.
func (s *Server) newAuthorization() *authorization {
	a := &authorization{}
	lister := rbacLister{
		clusterRoleBindings: a.cache(s, "clusterrolebindings"),
		roleBindings:        a.cache(s, "rolebindings"),
		clusterRoles:        a.cache(s, "clusterroles"),
		roles:               a.cache(s, "roles"),
	}
	a.rbac = rbac.New(lister)
	a.chain = authz.Chain{authz.Superuser(), node.New(a.podGraph(s)), a.rbac}
	return a
}

// podGraph returns the Node authorizer's graph, fed by a cache of pods.
func (a *authorization) podGraph(s *Server) *node.Graph {
	g := node.NewGraph()
	h := s.resources[corev1.SchemeGroupVersion.WithResource("pods")]
	if h == nil {
		return g
	}
	c := objcache.New(objcache.Config{Store: h.store, Watch: h.cache, Logger: h.log, OnChange: func(old, obj runtime.Object) {
		op, _ := old.(*corev1.Pod)
		np, _ := obj.(*corev1.Pod)
		g.Update(op, np)
	}})
	a.caches = append(a.caches, c)
	return g
}

// cache returns a new cache of an RBAC resource, run with the server.
func (a *authorization) cache(s *Server, resource string) *objcache.Cache {
	h := s.resources[rbacv1.SchemeGroupVersion.WithResource(resource)]
	c := objcache.New(objcache.Config{Store: h.store, Watch: h.cache, Logger: h.log})
	a.caches = append(a.caches, c)
	return c
}

func (a *authorization) run(ctx context.Context) {
	for _, c := range a.caches {
		go c.Run(ctx)
	}
}

// waitSynced waits until every cache holds its first list.
func (a *authorization) waitSynced(ctx context.Context) bool {
	for _, c := range a.caches {
		if !c.WaitSynced(ctx) {
			return false
		}
	}
	return true
}

// authorize lets a request through only if the chain allows it; a denied
// request gets upstream's 403 and reaches no handler, so it changes
// nothing. Requests without a user (public paths, or a server without
// authentication) are not checked.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := UserFrom(r.Context())
		if s.authz == nil || !ok {
			next.ServeHTTP(w, r)
			return
		}
		if authzUser(u).InGroup(authz.GroupMasters) {
			next.ServeHTTP(w, r) // the superuser needs no cache
			return
		}
		if !s.authz.waitSynced(r.Context()) {
			writeError(w, apierrors.NewServiceUnavailable("authorization caches are not synced"))
			return
		}
		a := requestAttributes(r, u)
		d, reason, err := s.authz.chain.Authorize(r.Context(), a)
		if d == authz.Allow {
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			s.cfg.Logger.Warn("authorization error", "user", u.Name, "err", err)
		}
		writeError(w, authz.Forbidden(a, reason))
	})
}

// requestAttributes describes a request for the authorizers, as upstream's
// RequestInfo does: resource requests under /api and /apis, every other
// path a non-resource request.
func requestAttributes(r *http.Request, u User) authz.Attributes {
	a := authz.Attributes{User: authzUser(u), Path: r.URL.Path}
	info, ok := parseRequest(r)
	if !ok {
		a.Verb = strings.ToLower(r.Method)
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			a.Verb = "get"
		}
		return a
	}
	a.ResourceRequest = true
	a.Verb, a.APIGroup, a.APIVersion = info.Verb, info.Group, info.Version
	a.Namespace, a.Resource, a.Subresource, a.Name = info.Namespace, info.Resource, info.Subresource, info.Name
	if a.Verb == "list" || a.Verb == "watch" {
		a.FieldSelector = r.URL.Query().Get("fieldSelector")
		if name, ok := selectedName(a.FieldSelector); ok {
			a.Name = name
		}
	}
	return a
}

// selectedName returns X of a fieldSelector metadata.name=X, which
// upstream authorizes as a request for that name.
func selectedName(selector string) (string, bool) {
	if selector == "" {
		return "", false
	}
	sel, err := fields.ParseSelector(selector)
	if err != nil {
		return "", false
	}
	return sel.RequiresExactMatch("metadata.name")
}

// rbacLister reads RBAC objects from the server's caches.
type rbacLister struct {
	clusterRoleBindings, roleBindings, clusterRoles, roles *objcache.Cache
}

func (l rbacLister) ClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	return typedList[*rbacv1.ClusterRoleBinding](l.clusterRoleBindings.List(""))
}

func (l rbacLister) RoleBindings(namespace string) []*rbacv1.RoleBinding {
	return typedList[*rbacv1.RoleBinding](l.roleBindings.List(namespace))
}

func (l rbacLister) ClusterRole(name string) (*rbacv1.ClusterRole, bool) {
	obj, ok := l.clusterRoles.Get("", name)
	if !ok {
		return nil, false
	}
	return obj.(*rbacv1.ClusterRole), true
}

func (l rbacLister) Role(namespace, name string) (*rbacv1.Role, bool) {
	obj, ok := l.roles.Get(namespace, name)
	if !ok {
		return nil, false
	}
	return obj.(*rbacv1.Role), true
}

func typedList[T runtime.Object](objs []runtime.Object) []T {
	out := make([]T, 0, len(objs))
	for _, obj := range objs {
		if t, ok := obj.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// authzUser is the user as authorizers see it.
func authzUser(u User) authz.User {
	return authz.User{Name: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
}
