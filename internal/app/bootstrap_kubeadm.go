package app

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/component-helpers/auth/rbac/reconciliation"

	"github.com/svcplane/svcplane/internal/authz/rbac"
)

// ensureKubeadmPolicy reconciles kubeadm's node bootstrap RBAC: what a
// joining node's bootstrap token may do, and anonymous reads of
// kube-public/cluster-info.
func ensureKubeadmPolicy(ctx context.Context, client kubernetes.Interface) error {
	rb := client.RbacV1()
	for _, r := range rbac.KubeadmClusterRoles() {
		o := reconciliation.ReconcileRoleOptions{Role: reconciliation.ClusterRoleRuleOwner{ClusterRole: r},
			Client: reconciliation.ClusterRoleModifier{Client: rb.ClusterRoles()}, Confirm: true}
		if err := reconcileOnce("clusterrole", r.Name, func() error { _, err := o.Run(); return err }); err != nil {
			return err
		}
	}
	for _, b := range rbac.KubeadmClusterRoleBindings() {
		o := reconciliation.ReconcileRoleBindingOptions{RoleBinding: reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: b},
			Client: reconciliation.ClusterRoleBindingClientAdapter{Client: rb.ClusterRoleBindings()}, Confirm: true}
		if err := reconcileOnce("clusterrolebinding", b.Name, func() error { _, err := o.Run(); return err }); err != nil {
			return err
		}
	}
	for _, r := range rbac.KubeadmRoles() {
		o := reconciliation.ReconcileRoleOptions{Role: reconciliation.RoleRuleOwner{Role: r},
			Client: reconciliation.RoleModifier{Client: rb, NamespaceClient: client.CoreV1().Namespaces()}, Confirm: true}
		if err := reconcileOnce("role", r.Name, func() error { _, err := o.Run(); return err }); err != nil {
			return err
		}
	}
	for _, b := range rbac.KubeadmRoleBindings() {
		o := reconciliation.ReconcileRoleBindingOptions{RoleBinding: reconciliation.RoleBindingAdapter{RoleBinding: b},
			Client: reconciliation.RoleBindingClientAdapter{Client: rb, NamespaceClient: client.CoreV1().Namespaces()}, Confirm: true}
		if err := reconcileOnce("rolebinding", b.Name, func() error { _, err := o.Run(); return err }); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func reconcileOnce(kind, name string, run func() error) error {
	if err := retry.RetryOnConflict(retry.DefaultBackoff, run); err != nil {
		return fmt.Errorf("reconcile %s %s: %w", kind, name, err)
	}
	return nil
}

// clusterInfoServer is the API's address for nodes on other machines:
// the advertise address, at the port served.
func clusterInfoServer(s *APIServer, cfg APIServerConfig) string {
	port := strconv.Itoa(cfg.Port)
	if u, err := url.Parse(s.URL); err == nil && u.Port() != "" {
		port = u.Port()
	}
	return "https://" + net.JoinHostPort(advertiseAddress(cfg).String(), port)
}

// ClusterInfoKubeconfig is the kubeconfig kubeadm publishes in
// kube-public/cluster-info: one cluster named "" (server and CA), no
// credentials.
func ClusterInfoKubeconfig(server string, caPEM []byte) ([]byte, error) {
	c := clientcmdapi.NewConfig()
	c.Clusters[""] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	return clientcmd.Write(*c)
}

// ensureClusterInfo writes the cluster-info ConfigMap (kubeadm's
// bootstrap-token phase) and keeps its kubeconfig current; the
// bootstrapsigner controller adds the signatures.
func ensureClusterInfo(ctx context.Context, client kubernetes.Interface, server string, caPEM []byte) error {
	kc, err := ClusterInfoKubeconfig(server, caPEM)
	if err != nil {
		return err
	}
	cms := client.CoreV1().ConfigMaps(metav1.NamespacePublic)
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cm, err := cms.Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.ConfigMapClusterInfo, Namespace: metav1.NamespacePublic},
				Data: map[string]string{bootstrapapi.KubeConfigKey: string(kc)}}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			return err
		}
		if err != nil || cm.Data[bootstrapapi.KubeConfigKey] == string(kc) {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[bootstrapapi.KubeConfigKey] = string(kc)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}
