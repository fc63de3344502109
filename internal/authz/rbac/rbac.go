// Package rbac is the RBAC authorizer: it allows a request when a rule of a
// Role or ClusterRole bound to the user (by a ClusterRoleBinding, or a
// RoleBinding of the request's namespace) matches it, as upstream's
// plugin/pkg/auth/authorizer/rbac does. It reads bindings and roles from a
// Lister (an in-memory cache of the stored objects), so a decision costs no
// storage read. It also lists the rules a user holds in a namespace, for
// SelfSubjectRulesReview, and holds upstream's bootstrap policy.
package rbac

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/authz"
)

// Lister reads the stored RBAC objects. Objects returned are shared: not
// to be modified.
type Lister interface {
	ClusterRoleBindings() []*rbacv1.ClusterRoleBinding
	RoleBindings(namespace string) []*rbacv1.RoleBinding
	ClusterRole(name string) (*rbacv1.ClusterRole, bool)
	Role(namespace, name string) (*rbacv1.Role, bool)
}

// Authorizer is the RBAC mode.
type Authorizer struct {
	lister Lister
}

var _ authz.Authorizer = (*Authorizer)(nil)

// New returns an RBAC authorizer over the objects lister reads.
func New(lister Lister) *Authorizer { return &Authorizer{lister: lister} }

// Authorize allows the request if a bound rule matches; its reason names
// the binding, role and subject. Otherwise it has no opinion, with a reason
// only when a bound role could not be found.
func (az *Authorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	var reason string
	var errs []error
	az.visit(a.User, a.Namespace, func(src source, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
			return true
		}
		if RuleAllows(a, rule) {
			reason = "RBAC: allowed by " + src.String()
			return false
		}
		return true
	})
	if reason != "" {
		return authz.Allow, reason, nil
	}
	if len(errs) > 0 {
		return authz.NoOpinion, "RBAC: " + aggregate(errs), nil
	}
	return authz.NoOpinion, "", nil
}

// RulesFor returns every rule the user holds in namespace (cluster-wide
// rules included), and the errors met resolving bound roles.
func (az *Authorizer) RulesFor(u authz.User, namespace string) ([]rbacv1.PolicyRule, []error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	az.visit(u, namespace, func(_ source, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
		} else {
			rules = append(rules, *rule)
		}
		return true
	})
	return rules, errs
}

// visit calls fn with each rule bound to the user, ClusterRoleBindings
// first, until fn returns false.
func (az *Authorizer) visit(u authz.User, namespace string, fn func(source, *rbacv1.PolicyRule, error) bool) {
	for _, b := range az.lister.ClusterRoleBindings() {
		s, ok := subjectFor(u, b.Subjects, "")
		if !ok {
			continue
		}
		src := source{binding: b.Name, roleRef: b.RoleRef, subject: s}
		if !az.visitRole(b.RoleRef, "", src, fn) {
			return
		}
	}
	if namespace == "" {
		return
	}
	for _, b := range az.lister.RoleBindings(namespace) {
		s, ok := subjectFor(u, b.Subjects, namespace)
		if !ok {
			continue
		}
		src := source{binding: b.Name, namespace: namespace, roleRef: b.RoleRef, subject: s}
		if !az.visitRole(b.RoleRef, namespace, src, fn) {
			return
		}
	}
}

func (az *Authorizer) visitRole(ref rbacv1.RoleRef, namespace string, src source, fn func(source, *rbacv1.PolicyRule, error) bool) bool {
	rules, err := az.roleRules(ref, namespace)
	if err != nil {
		return fn(src, nil, err)
	}
	for i := range rules {
		if !fn(src, &rules[i], nil) {
			return false
		}
	}
	return true
}

// RoleRules returns the rules of the role a binding in namespace
// references ("" for a ClusterRoleBinding).
func (az *Authorizer) RoleRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	return az.roleRules(ref, namespace)
}

// roleRules returns the rules of the role a binding references.
func (az *Authorizer) roleRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "ClusterRole":
		r, ok := az.lister.ClusterRole(ref.Name)
		if !ok {
			return nil, apierrors.NewNotFound(schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterrole"}, ref.Name)
		}
		return r.Rules, nil
	case "Role":
		r, ok := az.lister.Role(namespace, ref.Name)
		if !ok {
			return nil, apierrors.NewNotFound(schema.GroupResource{Group: rbacv1.GroupName, Resource: "role"}, ref.Name)
		}
		return r.Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

func subjectFor(u authz.User, subjects []rbacv1.Subject, namespace string) (rbacv1.Subject, bool) {
	for _, s := range subjects {
		if appliesTo(u, s, namespace) {
			return s, true
		}
	}
	return rbacv1.Subject{}, false
}

// source is the binding a rule came through, described as upstream does.
type source struct {
	binding   string
	namespace string // empty for a ClusterRoleBinding
	roleRef   rbacv1.RoleRef
	subject   rbacv1.Subject
}

func (s source) String() string {
	if s.namespace == "" {
		return fmt.Sprintf("ClusterRoleBinding %q of %s %q to %s", s.binding, s.roleRef.Kind, s.roleRef.Name, describeSubject(s.subject, ""))
	}
	return fmt.Sprintf("RoleBinding %q of %s %q to %s", s.binding+"/"+s.namespace, s.roleRef.Kind, s.roleRef.Name, describeSubject(s.subject, s.namespace))
}

func describeSubject(s rbacv1.Subject, bindingNamespace string) string {
	if s.Kind != rbacv1.ServiceAccountKind {
		return fmt.Sprintf("%s %q", s.Kind, s.Name)
	}
	ns := s.Namespace
	if ns == "" {
		ns = bindingNamespace
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
}

// aggregate joins errors as k8s.io/apimachinery's utilerrors aggregate
// prints them: one alone, several as "[a, b]".
func aggregate(errs []error) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	texts := make([]string, len(errs))
	for i, e := range errs {
		texts[i] = e.Error()
	}
	return "[" + strings.Join(texts, ", ") + "]"
}
