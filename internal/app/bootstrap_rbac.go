package app

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/component-helpers/auth/rbac/reconciliation"

	"github.com/svcplane/svcplane/internal/authz/rbac"
)

// ensureRBACPolicy reconciles upstream's bootstrap ClusterRoles and
// ClusterRoleBindings, as kube-apiserver's rbac/bootstrap-roles post-start
// hook does: missing ones are created, and the ones annotated
// rbac.authorization.kubernetes.io/autoupdate=true get the rules and
// subjects they lack (nothing is removed). The reconciliation itself is
// k8s.io/component-helpers'.
func ensureRBACPolicy(ctx context.Context, client kubernetes.Interface) error {
	roles := reconciliation.ClusterRoleModifier{Client: client.RbacV1().ClusterRoles()}
	for _, r := range rbac.ClusterRoles() {
		err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
			opts := reconciliation.ReconcileRoleOptions{Role: reconciliation.ClusterRoleRuleOwner{ClusterRole: r}, Client: roles, Confirm: true}
			_, err := opts.Run()
			return err
		})
		if err != nil {
			return fmt.Errorf("reconcile clusterrole %s: %w", r.Name, err)
		}
	}
	bindings := reconciliation.ClusterRoleBindingClientAdapter{Client: client.RbacV1().ClusterRoleBindings()}
	for _, b := range rbac.ClusterRoleBindings() {
		err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
			opts := reconciliation.ReconcileRoleBindingOptions{RoleBinding: reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: b}, Client: bindings, Confirm: true}
			_, err := opts.Run()
			return err
		})
		if err != nil {
			return fmt.Errorf("reconcile clusterrolebinding %s: %w", b.Name, err)
		}
	}
	return ctx.Err()
}
