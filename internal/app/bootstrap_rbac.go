package app

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"k8s.io/component-helpers/auth/rbac/reconciliation"

	"github.com/svcplane/svcplane/internal/authz/rbac"
)

// ensureRBACPolicy reconciles upstream's bootstrap ClusterRoles and
// ClusterRoleBindings, as kube-apiserver's rbac/bootstrap-roles post-start
// hook does: missing ones are created, and the ones annotated
// rbac.authorization.kubernetes.io/autoupdate=true get the rules and
// subjects they lack (nothing is removed). The reconciliation itself is
// k8s.io/component-helpers'. The roles, then the bindings, are
// reconciled bootstrapWorkers at a time (see forEach): one by one, the ~120 reads and
// writes of a fresh cluster took 0.3-1.5 s of every cold up, waiting on
// etcd's commits, which concurrent writes share.
func ensureRBACPolicy(ctx context.Context, client kubernetes.Interface) error {
	roles := reconciliation.ClusterRoleModifier{Client: client.RbacV1().ClusterRoles()}
	clusterRoles := rbac.ClusterRoles()
	err := forEach(ctx, len(clusterRoles), func(i int) error {
		r := clusterRoles[i]
		return reconcileOnce("clusterrole", r.Name, func() error {
			opts := reconciliation.ReconcileRoleOptions{Role: reconciliation.ClusterRoleRuleOwner{ClusterRole: r}, Client: roles, Confirm: true}
			_, err := opts.Run()
			return err
		})
	})
	if err != nil {
		return err
	}
	bindings := reconciliation.ClusterRoleBindingClientAdapter{Client: client.RbacV1().ClusterRoleBindings()}
	clusterBindings := rbac.ClusterRoleBindings()
	return forEach(ctx, len(clusterBindings), func(i int) error {
		b := clusterBindings[i]
		return reconcileOnce("clusterrolebinding", b.Name, func() error {
			opts := reconciliation.ReconcileRoleBindingOptions{RoleBinding: reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: b}, Client: bindings, Confirm: true}
			_, err := opts.Run()
			return err
		})
	})
}
