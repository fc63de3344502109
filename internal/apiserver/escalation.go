package apiserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/authz"
)

// EscalationHooks keep RBAC from being a way around itself, as upstream's
// RBAC storage does: a Role or ClusterRole may hold only rules its author
// holds (or the author may `escalate` it), and a binding may reference only
// a role whose rules its author holds (or the author may `bind` it);
// system:masters may do both. server is read at the first write.
func EscalationHooks(server func() *Server) registry.Hooks { return escalation{server: server} }

type escalation struct{ server func() *Server }

func (e escalation) BeforeCreate(ctx context.Context, obj runtime.Object, _ bool) (registry.Pending, error) {
	return registry.Pending{}, e.check(ctx, obj)
}

func (e escalation) BeforeUpdate(ctx context.Context, obj, _ runtime.Object, _ bool) (registry.Pending, error) {
	return registry.Pending{}, e.check(ctx, obj)
}

func (escalation) AfterDelete(context.Context, runtime.Object) {}

func (e escalation) check(ctx context.Context, obj runtime.Object) error {
	u, ok := authn.UserFrom(ctx)
	if !ok {
		return nil // the server's own writes
	}
	au := authzUser(u)
	if au.InGroup(authz.GroupMasters) {
		return nil
	}
	s := e.server()
	if s == nil || s.authz == nil {
		return errors.New("authorization is not ready")
	}
	switch o := obj.(type) {
	case *rbacv1.Role:
		return e.role(ctx, s, au, "roles", o.Namespace, o.Name, o.Rules, false)
	case *rbacv1.ClusterRole:
		return e.role(ctx, s, au, "clusterroles", "", o.Name, o.Rules, o.AggregationRule != nil)
	case *rbacv1.RoleBinding:
		return e.binding(ctx, s, au, "rolebindings", o.Namespace, o.Name, o.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		return e.binding(ctx, s, au, "clusterrolebindings", "", o.Name, o.RoleRef)
	}
	return nil
}

func (e escalation) role(ctx context.Context, s *Server, u authz.User, resource, ns, name string, rules []rbacv1.PolicyRule, aggregated bool) error {
	if allowed(ctx, s, u, "escalate", resource, ns, name) {
		return nil
	}
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: resource}
	if aggregated {
		return apierrors.NewForbidden(gr, name, errors.New("must have cluster-admin privileges to use the aggregationRule"))
	}
	return noEscalation(s, u, ns, rules, gr, name)
}

func (e escalation) binding(ctx context.Context, s *Server, u authz.User, resource, ns, name string, ref rbacv1.RoleRef) error {
	roleResource := "clusterroles"
	if ref.Kind == "Role" {
		roleResource = "roles"
	}
	if allowed(ctx, s, u, "bind", roleResource, ns, ref.Name) {
		return nil
	}
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: resource}
	rules, err := s.authz.rbac.RoleRules(ref, ns)
	if err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	return noEscalation(s, u, ns, rules, gr, name)
}

// allowed asks the authorizer chain whether u may verb the role.
func allowed(ctx context.Context, s *Server, u authz.User, verb, resource, ns, name string) bool {
	d, _, err := s.authz.chain.Authorize(ctx, authz.Attributes{User: u, Verb: verb, ResourceRequest: true,
		APIGroup: rbacv1.GroupName, APIVersion: "v1", Resource: resource, Namespace: ns, Name: name})
	return err == nil && d == authz.Allow
}

// noEscalation refuses rules u does not hold in ns, with upstream's text.
func noEscalation(s *Server, u authz.User, ns string, rules []rbacv1.PolicyRule, gr schema.GroupResource, name string) error {
	owner, resolveErrs := s.authz.rbac.RulesFor(u, ns)
	covered, missing := rbacvalidation.Covers(owner, rules)
	if covered {
		return nil
	}
	groups := fmt.Sprintf("%q", u.Groups)
	groups = strings.ReplaceAll(groups, `" "`, `","`)
	msg := fmt.Sprintf("user %q (groups=%s) is attempting to grant RBAC permissions not currently held:\n%s", u.Name, groups, compactRules(missing))
	if len(resolveErrs) > 0 {
		msg += fmt.Sprintf("; resolution errors: %v", resolveErrs)
	}
	return apierrors.NewForbidden(gr, name, errors.New(msg))
}

// compactRules prints rules as upstream's CompactString does, one a line.
func compactRules(rules []rbacv1.PolicyRule) string {
	lines := make([]string, len(rules))
	for i, r := range rules {
		var parts []string
		add := func(name string, v []string) {
			if len(v) > 0 {
				parts = append(parts, fmt.Sprintf("%s:%s", name, quotedList(v)))
			}
		}
		add("APIGroups", r.APIGroups)
		add("Resources", r.Resources)
		add("ResourceNames", r.ResourceNames)
		add("NonResourceURLs", r.NonResourceURLs)
		add("Verbs", r.Verbs)
		lines[i] = "{" + strings.Join(parts, ", ") + "}"
	}
	return strings.Join(lines, "\n")
}

func quotedList(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, " ") + "]"
}
