package rbac

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

func TestValidate(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		obj  runtime.Object
		want string
	}{
		{"role without verbs", &rbacv1.Role{Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}}},
			`rules[0].verbs: Required value: verbs must contain at least one value`},
		{"role with a url", &rbacv1.Role{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/x"}}}},
			`rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs`},
		{"rule without groups", &rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}},
			`rules[0].apiGroups: Required value: resource rules must supply at least one api group`},
		{"empty aggregation", &rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{}},
			`aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil`},
		{"cluster binding to a role", &rbacv1.ClusterRoleBinding{RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"}},
			`roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`},
		{"sa without namespace", &rbacv1.ClusterRoleBinding{RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "r"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "x"}}},
			`subjects[0].namespace: Required value`},
		{"unknown subject kind", &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
			Subjects: []rbacv1.Subject{{Kind: "Robot", Name: "x"}}},
			`subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := strategyOf(tc.obj)
			s.Default(tc.obj)
			errs := s.Validate(ctx, tc.obj)
			if len(errs) != 1 || errs[0].Error() != tc.want {
				t.Errorf("got %v\nwant %s", errs, tc.want)
			}
		})
	}
}

func TestRoleRefImmutable(t *testing.T) {
	old := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "a"}}
	cur := old.DeepCopy()
	cur.RoleRef.Name = "b"
	errs := RoleBindingStrategy().ValidateUpdate(context.Background(), cur, old)
	if len(errs) != 1 || errs[0].Field != "roleRef" || errs[0].Detail != "cannot change roleRef" {
		t.Errorf("got %v", errs)
	}
}

func TestDefaultSubjects(t *testing.T) {
	b := &rbacv1.RoleBinding{Subjects: []rbacv1.Subject{{Kind: "User", Name: "u"}, {Kind: "ServiceAccount", Name: "s"}}}
	RoleBindingStrategy().Default(b)
	if b.RoleRef.APIGroup != rbacv1.GroupName || b.Subjects[0].APIGroup != rbacv1.GroupName || b.Subjects[1].APIGroup != "" {
		t.Errorf("defaults: %+v", b)
	}
}

func strategyOf(obj runtime.Object) registry.Strategy {
	switch obj.(type) {
	case *rbacv1.Role:
		return RoleStrategy()
	case *rbacv1.ClusterRole:
		return ClusterRoleStrategy()
	case *rbacv1.RoleBinding:
		return RoleBindingStrategy()
	}
	return ClusterRoleBindingStrategy()
}
