package clusterroleaggregation

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcplane/svcplane/internal/authz/rbac"
)

func TestAggregateBootstrapRoles(t *testing.T) {
	roles := rbac.ClusterRoles()
	byName := map[string]*rbacv1.ClusterRole{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	// view, then edit (which selects view), then admin (which selects edit).
	for _, name := range []string{"view", "edit", "admin"} {
		rules, err := Aggregate(byName[name], roles)
		if err != nil {
			t.Fatal(err)
		}
		byName[name].Rules = rules
	}
	n := func(name string) int { return len(byName[name].Rules) }
	if n("view") != len(byName["system:aggregate-to-view"].Rules) {
		t.Errorf("view has %d rules, want those of system:aggregate-to-view (%d)", n("view"), len(byName["system:aggregate-to-view"].Rules))
	}
	if n("edit") != n("view")+len(byName["system:aggregate-to-edit"].Rules) {
		t.Errorf("edit has %d rules", n("edit"))
	}
	if n("admin") != n("edit")+len(byName["system:aggregate-to-admin"].Rules) {
		t.Errorf("admin has %d rules", n("admin"))
	}
}

func TestControllerFillsRole(t *testing.T) {
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"aggregate-to-monitoring": "true"}}}}}
	part := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "part", Labels: map[string]string{"aggregate-to-monitoring": "true"}},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	client := fake.NewSimpleClientset(agg, part)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, ClusterRoles: f.Rbac().V1().ClusterRoles()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.Start(ctx.Done())
	go c.Run(ctx, 1)
	for ctx.Err() == nil {
		got, err := client.RbacV1().ClusterRoles().Get(ctx, "monitoring", metav1.GetOptions{})
		if err == nil && len(got.Rules) == 1 && got.Rules[0].Resources[0] == "pods" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("monitoring never got the part's rule")
}
