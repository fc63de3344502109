package builtin

import (
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	rbacregistry "github.com/svcplane/svcplane/internal/apiserver/registry/rbac"
)

// rbacResources are rbac.authorization.k8s.io/v1's four resources.
func rbacResources(hooks registry.Hooks) []*registry.Resource {
	gv := rbacv1.SchemeGroupVersion
	name := rbacregistry.ValidateName
	return []*registry.Resource{
		{GroupVersion: gv, Name: "clusterrolebindings", Singular: "clusterrolebinding", Kind: "ClusterRoleBinding", ListKind: "ClusterRoleBindingList",
			ValidateName: name, New: newOf[rbacv1.ClusterRoleBinding], NewList: newOf[rbacv1.ClusterRoleBindingList], Strategy: rbacregistry.ClusterRoleBindingStrategy(), Hooks: hooks},
		{GroupVersion: gv, Name: "clusterroles", Singular: "clusterrole", Kind: "ClusterRole", ListKind: "ClusterRoleList",
			ValidateName: name, New: newOf[rbacv1.ClusterRole], NewList: newOf[rbacv1.ClusterRoleList], Strategy: rbacregistry.ClusterRoleStrategy(), Hooks: hooks},
		{GroupVersion: gv, Name: "rolebindings", Singular: "rolebinding", Kind: "RoleBinding", ListKind: "RoleBindingList", Namespaced: true,
			ValidateName: name, New: newOf[rbacv1.RoleBinding], NewList: newOf[rbacv1.RoleBindingList], Strategy: rbacregistry.RoleBindingStrategy(), Hooks: hooks},
		{GroupVersion: gv, Name: "roles", Singular: "role", Kind: "Role", ListKind: "RoleList", Namespaced: true,
			ValidateName: name, New: newOf[rbacv1.Role], NewList: newOf[rbacv1.RoleList], Strategy: rbacregistry.RoleStrategy(), Hooks: hooks},
	}
}

// reviewResources are authorization.k8s.io/v1's reviews: create-only,
// answered by the API server's authorizer and never stored.
func reviewResources() []*registry.Resource {
	gv := authorizationv1.SchemeGroupVersion
	create := []string{"create"}
	return []*registry.Resource{
		{GroupVersion: gv, Name: "localsubjectaccessreviews", Singular: "localsubjectaccessreview", Kind: "LocalSubjectAccessReview",
			Namespaced: true, Verbs: create, New: newOf[authorizationv1.LocalSubjectAccessReview], Strategy: registry.Typed[*authorizationv1.LocalSubjectAccessReview]{}},
		{GroupVersion: gv, Name: "selfsubjectaccessreviews", Singular: "selfsubjectaccessreview", Kind: "SelfSubjectAccessReview",
			Verbs: create, New: newOf[authorizationv1.SelfSubjectAccessReview], Strategy: registry.Typed[*authorizationv1.SelfSubjectAccessReview]{}},
		{GroupVersion: gv, Name: "selfsubjectrulesreviews", Singular: "selfsubjectrulesreview", Kind: "SelfSubjectRulesReview",
			Verbs: create, New: newOf[authorizationv1.SelfSubjectRulesReview], Strategy: registry.Typed[*authorizationv1.SelfSubjectRulesReview]{}},
		{GroupVersion: gv, Name: "subjectaccessreviews", Singular: "subjectaccessreview", Kind: "SubjectAccessReview",
			Verbs: create, New: newOf[authorizationv1.SubjectAccessReview], Strategy: registry.Typed[*authorizationv1.SubjectAccessReview]{}},
	}
}
