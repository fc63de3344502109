package rbac

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/authz"
)

// fakeLister serves fixed objects.
type fakeLister struct {
	crbs  []*rbacv1.ClusterRoleBinding
	rbs   []*rbacv1.RoleBinding
	crs   map[string]*rbacv1.ClusterRole
	roles map[string]*rbacv1.Role // namespace/name
}

func (f *fakeLister) ClusterRoleBindings() []*rbacv1.ClusterRoleBinding { return f.crbs }
func (f *fakeLister) RoleBindings(ns string) []*rbacv1.RoleBinding {
	var out []*rbacv1.RoleBinding
	for _, b := range f.rbs {
		if b.Namespace == ns {
			out = append(out, b)
		}
	}
	return out
}
func (f *fakeLister) ClusterRole(name string) (*rbacv1.ClusterRole, bool) {
	r, ok := f.crs[name]
	return r, ok
}
func (f *fakeLister) Role(ns, name string) (*rbacv1.Role, bool) {
	r, ok := f.roles[ns+"/"+name]
	return r, ok
}

// policyLister holds the bootstrap policy (view filled as the aggregation
// controller fills it) and a few bindings of the table's users.
func policyLister() *fakeLister {
	f := &fakeLister{crbs: ClusterRoleBindings(), crs: map[string]*rbacv1.ClusterRole{}, roles: map[string]*rbacv1.Role{}}
	for _, r := range ClusterRoles() {
		f.crs[r.Name] = r
	}
	f.crs["view"].Rules = aggregateToViewRules()
	f.roles["dev/pod-reader"] = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "pod-reader"},
		Rules: []rbacv1.PolicyRule{rule(v("get", "list"), g(core), "pods", "pods/log")}}
	f.roles["dev/one-secret"] = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "one-secret"},
		Rules: []rbacv1.PolicyRule{named(rule(v("get"), g(core), "secrets"), "s1")}}
	f.rbs = []*rbacv1.RoleBinding{
		roleBinding("dev", "readers", rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"}, serviceAccount("", "x")),
		roleBinding("dev", "viewers", rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}, user("carol")),
		roleBinding("dev", "secret", rbacv1.RoleRef{Kind: "Role", Name: "one-secret"}, group("team")),
		roleBinding("dev", "dangling", rbacv1.RoleRef{Kind: "Role", Name: "missing"}, user("dan")),
	}
	return f
}

func roleBinding(ns, name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	ref.APIGroup = rbacGroup
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, RoleRef: ref, Subjects: subjects}
}

func TestAuthorize(t *testing.T) {
	authed := func(name string, groups ...string) authz.User {
		return authz.User{Name: name, Groups: append(groups, authz.GroupAuthenticated)}
	}
	sa := authed("system:serviceaccount:dev:x", "system:serviceaccounts", "system:serviceaccounts:dev")
	res := func(u authz.User, verb, group, resource, sub, ns, name string) authz.Attributes {
		return authz.Attributes{User: u, Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
	}
	path := func(u authz.User, verb, p string) authz.Attributes {
		return authz.Attributes{User: u, Verb: verb, Path: p}
	}
	cases := []struct {
		name   string
		attrs  authz.Attributes
		allow  bool
		reason string
	}{
		{"admin group", res(authed("root", "system:masters"), "delete", "", "nodes", "", "", "n1"), true,
			`RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"`},
		{"sa lists pods in its namespace", res(sa, "list", "", "pods", "", "dev", ""), true,
			`RBAC: allowed by RoleBinding "readers/dev" of Role "pod-reader" to ServiceAccount "x/dev"`},
		{"sa reads pod logs", res(sa, "get", "", "pods", "log", "dev", "p"), true,
			`RBAC: allowed by RoleBinding "readers/dev" of Role "pod-reader" to ServiceAccount "x/dev"`},
		{"sa may not exec", res(sa, "create", "", "pods", "exec", "dev", "p"), false, ""},
		{"sa may not delete pods", res(sa, "delete", "", "pods", "", "dev", "p"), false, ""},
		{"sa may not list pods elsewhere", res(sa, "list", "", "pods", "", "prod", ""), false, ""},
		{"sa may not list pods cluster-wide", res(sa, "list", "", "pods", "", "", ""), false, ""},
		{"view aggregated rules", res(authed("carol"), "watch", "apps", "deployments", "", "dev", ""), true,
			`RBAC: allowed by RoleBinding "viewers/dev" of ClusterRole "view" to User "carol"`},
		{"view has no secrets", res(authed("carol"), "get", "", "secrets", "", "dev", "s1"), false, ""},
		{"resourceNames match", res(authed("eve", "team"), "get", "", "secrets", "", "dev", "s1"), true,
			`RBAC: allowed by RoleBinding "secret/dev" of Role "one-secret" to Group "team"`},
		{"resourceNames other name", res(authed("eve", "team"), "get", "", "secrets", "", "dev", "s2"), false, ""},
		{"resourceNames never match a list", res(authed("eve", "team"), "list", "", "secrets", "", "dev", ""), false, ""},
		{"missing role is the reason", res(authed("dan"), "get", "", "pods", "", "dev", "p"), false,
			`RBAC: role.rbac.authorization.k8s.io "missing" not found`},
		{"discovery for everyone", path(authed("nobody"), "get", "/apis/apps/v1"), true,
			`RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"`},
		{"no metrics for everyone", path(authed("nobody"), "get", "/metrics"), false, ""},
		{"healthz for anonymous", path(authz.User{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}, "get", "/healthz"), true,
			`RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"`},
		{"self review", res(authed("nobody"), "create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""), true,
			`RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"`},
		{"kube-proxy watches slices", res(authed("system:kube-proxy"), "watch", "discovery.k8s.io", "endpointslices", "", "", ""), true,
			`RBAC: allowed by ClusterRoleBinding "system:node-proxier" of ClusterRole "system:node-proxier" to User "system:kube-proxy"`},
		{"kube-proxy may not write services", res(authed("system:kube-proxy"), "update", "", "services", "", "default", "web"), false, ""},
		{"controller manager lists anything", res(authed("system:kube-controller-manager"), "list", "apps", "replicasets", "", "", ""), true,
			`RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole "system:kube-controller-manager" to User "system:kube-controller-manager"`},
		{"nodes are bound to nothing", res(authed("system:node:n1", "system:nodes"), "get", "", "secrets", "", "dev", "s1"), false, ""},
	}
	az := New(policyLister())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, reason, err := az.Authorize(context.Background(), tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if (d == authz.Allow) != tc.allow || reason != tc.reason {
				t.Errorf("got %v %q, want allow=%v %q", d, reason, tc.allow, tc.reason)
			}
		})
	}
}

func TestRuleAllowsSubresourceWildcard(t *testing.T) {
	r := rule(v("get"), g(core), "*/status")
	a := authz.Attributes{Verb: "get", ResourceRequest: true, Resource: "pods", Subresource: "status"}
	if !RuleAllows(a, &r) {
		t.Error("*/status should cover pods/status")
	}
	a.Subresource = ""
	if RuleAllows(a, &r) {
		t.Error("*/status should not cover pods")
	}
	u := urls(v("get"), "/logs/*")
	if !RuleAllows(authz.Attributes{Verb: "get", Path: "/logs/a/b"}, &u) || RuleAllows(authz.Attributes{Verb: "get", Path: "/log"}, &u) {
		t.Error("/logs/* prefix match")
	}
}

func TestRulesFor(t *testing.T) {
	az := New(policyLister())
	rules, errs := az.RulesFor(authz.User{Name: "system:serviceaccount:dev:x", Groups: []string{authz.GroupAuthenticated}}, "dev")
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var found bool
	for _, r := range rules {
		found = found || (len(r.Resources) == 2 && r.Resources[0] == "pods")
	}
	if !found {
		t.Errorf("rules lack the pod-reader rule: %v", rules)
	}
}

// BenchmarkAuthorize measures one decision over the bootstrap policy: a
// ServiceAccount allowed by a RoleBinding (every ClusterRoleBinding is
// visited first) and a user denied (every binding visited).
func BenchmarkAuthorize(b *testing.B) {
	az := New(policyLister())
	allowed := authz.Attributes{User: authz.User{Name: "system:serviceaccount:dev:x", Groups: []string{"system:serviceaccounts", "system:authenticated"}},
		Verb: "list", ResourceRequest: true, Resource: "pods", Namespace: "dev"}
	denied := allowed
	denied.Verb = "delete"
	for _, bc := range []struct {
		name string
		a    authz.Attributes
	}{{"allowed", allowed}, {"denied", denied}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = az.Authorize(context.Background(), bc.a)
			}
		})
	}
}
