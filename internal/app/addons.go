package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/dns/cluster"
)

// addonsOn says whether up runs the proxy and DNS as kube-system pods (a
// kube-proxy DaemonSet and a coredns Deployment, as kubeadm's addons)
// rather than in its own process: it does unless --no-addons, or when no
// agent runs real pods.
func addonsOn(cfg UpConfig) bool {
	return !cfg.NoAddons && !cfg.NoAgent && cfg.Agent.withDefaults().Runtime != "simulated"
}

// applyAddons creates what kubeadm's addon phase creates (the objects
// already there are left as they are, edits included): kube-proxy's
// ServiceAccount, binding, ConfigMap and DaemonSet; CoreDNS's
// ServiceAccount, role, binding, ConfigMap and Deployment behind the
// kube-dns Service. The two addons are applied at once, and each one's
// objects at once before its DaemonSet or Deployment, whose pods need
// them (the ServiceAccount to be created, the ConfigMap to start).
func applyAddons(ctx context.Context, client kubernetes.Interface, cfg UpConfig, server string) error {
	var steps []func() error
	if !cfg.Proxy.NoProxy {
		steps = append(steps, func() error {
			if err := applyKubeProxy(ctx, client, cfg, server); err != nil {
				return fmt.Errorf("kube-proxy addon: %w", err)
			}
			return nil
		})
	}
	if !cfg.DNS.NoDNS {
		steps = append(steps, func() error {
			if err := applyCoreDNS(ctx, client, cfg); err != nil {
				return fmt.Errorf("coredns addon: %w", err)
			}
			return nil
		})
	}
	return all(ctx, steps...)
}

func applyKubeProxy(ctx context.Context, client kubernetes.Interface, cfg UpConfig, server string) error {
	extra := map[string]string{kubeProxyKubeconfig: kubeProxyKubeconfigText(server)}
	err := all(ctx,
		func() error { return ensureServiceAccount(ctx, client, kubeProxyName) },
		func() error {
			return ensureObject(ctx, client.RbacV1().ClusterRoleBindings(), &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: nodeProxierBinding},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:node-proxier"},
				Subjects:   saSubject(kubeProxyName)})
		},
		func() error {
			_, err := ensureKubeProxyConfig(ctx, client, cfg, addonProxyOverride(cfg), extra)
			return err
		})
	if err != nil {
		return err
	}
	ds := kubeProxyDaemonSet()
	if _, err := os.Stat("/lib/modules"); err != nil {
		withoutVolume(&ds.Spec.Template.Spec, "lib-modules") // a machine without modules (a container)
	}
	return ensureObject(ctx, client.AppsV1().DaemonSets("kube-system"), ds)
}

// withoutVolume removes a volume and its mounts from a pod spec.
func withoutVolume(spec *corev1.PodSpec, name string) {
	spec.Volumes = slices.DeleteFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == name })
	for i := range spec.Containers {
		c := &spec.Containers[i]
		c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == name })
	}
}

// addonProxyOverride is what up sets in the ConfigMap's configuration
// for the proxy pods, as kubeadm does: the cluster CIDR and the
// kubeconfig beside it (each pod names its node with a flag).
func addonProxyOverride(cfg UpConfig) func(*kpv1.KubeProxyConfiguration) {
	return func(kp *kpv1.KubeProxyConfiguration) {
		kp.ClusterCIDR = orString(cfg.Controllers.PodCIDR, "10.244.0.0/16")
		kp.HostnameOverride = ""
		kp.ClientConnection.Kubeconfig = kubeProxyMountPath + "/" + kubeProxyKubeconfig
	}
}

func applyCoreDNS(ctx context.Context, client kubernetes.Interface, cfg UpConfig) error {
	rbac := client.RbacV1()
	err := all(ctx,
		func() error { return ensureServiceAccount(ctx, client, corednsName) },
		func() error { return ensureObject(ctx, rbac.ClusterRoles(), corednsClusterRole()) },
		func() error {
			return ensureObject(ctx, rbac.ClusterRoleBindings(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: corednsRole},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: corednsRole}, Subjects: saSubject(corednsName)})
		},
		func() error { return ensureObject(ctx, rbac.Roles("kube-system"), corednsEventsRoleObj()) },
		func() error {
			return ensureObject(ctx, rbac.RoleBindings("kube-system"), &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: corednsEventsRole, Namespace: "kube-system"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: corednsEventsRole}, Subjects: saSubject(corednsName)})
		},
		func() error {
			return ensureObject(ctx, client.CoreV1().ConfigMaps("kube-system"), &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: corednsName, Namespace: "kube-system"},
				Data:       map[string]string{"Corefile": corefile(orString(cfg.Agent.ClusterDomain, cluster.DefaultZone), cfg.DNS.Upstreams)}})
		},
		func() error { return ensureKubeDNSService(ctx, client, cfg.Agent.withDefaults().ClusterDNS, true) })
	return errors.Join(err, ensureObject(ctx, client.AppsV1().Deployments("kube-system"), corednsDeployment()))
}

func ensureServiceAccount(ctx context.Context, client kubernetes.Interface, name string) error {
	return ensureObject(ctx, client.CoreV1().ServiceAccounts("kube-system"),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"}})
}

// creator is a typed client's Create.
type creator[T any] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
}

// ensureObject creates obj unless it exists.
func ensureObject[T metav1.Object](ctx context.Context, c creator[T], obj T) error {
	if _, err := c.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %s: %w", obj.GetName(), err)
	}
	return nil
}

// removeAddons deletes the addons' DaemonSet and Deployment (their pods
// go with them) when up runs the proxy and DNS in its own process again.
func removeAddons(ctx context.Context, client kubernetes.Interface) error {
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	err := client.AppsV1().DaemonSets("kube-system").Delete(ctx, kubeProxyName, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	err = client.AppsV1().Deployments("kube-system").Delete(ctx, corednsName, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// nodeAPIServer is the API's address as the node reaches it: the
// advertised address (the node's own under --sandbox), else up's URL.
func nodeAPIServer(s *APIServer, cfg UpConfig) string {
	u, err := url.Parse(s.URL)
	if err != nil || cfg.APIServer.AdvertiseAddress == "" {
		return s.URL
	}
	return "https://" + net.JoinHostPort(cfg.APIServer.AdvertiseAddress, u.Port())
}
