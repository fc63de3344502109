package workloads

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/testcluster"
)

// TestGarbageCollection deletes owners with each propagation policy.
func TestGarbageCollection(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	e.addNode("node-a", nil, true)
	t.Run("foreground", func(t *testing.T) { testForeground(e.with(t), e.namespace("fg")) })
	t.Run("orphan", func(t *testing.T) { testOrphan(e.with(t), e.namespace("orphan")) })
	t.Run("service slices", func(t *testing.T) { testServiceSlices(e.with(t), e.namespace("slices")) })
	t.Run("dangling owner", func(t *testing.T) { testDanglingOwner(e.with(t), e.namespace("dangling")) })
	t.Run("namespace", func(t *testing.T) { testNamespaceDeletion(e.with(t), e.namespace("doomed")) })
	t.Run("namespace waits", func(t *testing.T) { testNamespaceWaits(e.with(t), e.namespace("slow")) })
}

// testDanglingOwner: an object whose owner never existed is deleted, one
// with another, live owner only loses the dangling reference.
func testDanglingOwner(e *env, ns string) {
	owner, err := e.Client.CoreV1().ConfigMaps(ns).Create(e.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	ghost := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "ghost", UID: "0000-ghost"}
	live := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID}
	for name, refs := range map[string][]metav1.OwnerReference{"lonely": {ghost}, "shared": {ghost, live}} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: refs}}
		if _, err := e.Client.CoreV1().ConfigMaps(ns).Create(e.ctx, cm, metav1.CreateOptions{}); err != nil {
			e.t.Fatal(err)
		}
	}
	e.eventually(10*time.Second, "lonely deleted, shared kept", func() (bool, string) {
		_, err := e.Client.CoreV1().ConfigMaps(ns).Get(e.ctx, "lonely", metav1.GetOptions{})
		shared, err2 := e.Client.CoreV1().ConfigMaps(ns).Get(e.ctx, "shared", metav1.GetOptions{})
		if err2 != nil {
			return false, err2.Error()
		}
		return apierrors.IsNotFound(err) && len(shared.OwnerReferences) == 1 && shared.OwnerReferences[0].UID == owner.UID,
			fmt.Sprintf("lonely: %v, shared refs %d", err, len(shared.OwnerReferences))
	})
}

// testNamespaceWaits: a pod whose node never finishes its deletion keeps
// the namespace Terminating, with upstream's conditions, until the pod is
// gone.
func testNamespaceWaits(e *env, ns string) {
	e.addNode("silent", map[string]string{"role": "silent"}, false)
	if _, err := e.Client.CoreV1().Pods(ns).Create(e.ctx, pod(ns, "stuck", map[string]string{"role": "silent"}), metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually(10*time.Second, "pod bound", func() (bool, string) {
		p, err := e.Client.CoreV1().Pods(ns).Get(e.ctx, "stuck", metav1.GetOptions{})
		return err == nil && p.Spec.NodeName == "silent", describe(err, "bound")
	})
	if err := e.Client.CoreV1().Namespaces().Delete(e.ctx, ns, metav1.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}
	want := "Some resources are remaining: pods. has 1 resource instances"
	e.eventually(10*time.Second, "NamespaceContentRemaining", func() (bool, string) {
		n, err := e.Client.CoreV1().Namespaces().Get(e.ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NamespaceContentRemaining {
				return c.Status == corev1.ConditionTrue && c.Reason == "SomeResourcesRemain" && c.Message == want, c.Message
			}
		}
		return false, "no condition"
	})
	zero := int64(0)
	if err := e.Client.CoreV1().Pods(ns).Delete(e.ctx, "stuck", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually(10*time.Second, "namespace gone", func() (bool, string) {
		_, err := e.Client.CoreV1().Namespaces().Get(e.ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), describe(err, "get namespace")
	})
}

// counts is "<deployments> <replicasets> <pods>" in ns.
func (e *env) counts(ns string) string {
	d, err1 := e.Client.AppsV1().Deployments(ns).List(e.ctx, metav1.ListOptions{})
	rs, err2 := e.Client.AppsV1().ReplicaSets(ns).List(e.ctx, metav1.ListOptions{})
	pods, err3 := e.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err1 != nil || err2 != nil || err3 != nil {
		return fmt.Sprint(err1, err2, err3)
	}
	return fmt.Sprintf("%d %d %d", len(d.Items), len(rs.Items), len(pods.Items))
}

// testForeground: the Deployment stays, with the foregroundDeletion
// finalizer, until its ReplicaSet and pods are gone.
func testForeground(e *env, ns string) {
	if _, err := e.Client.AppsV1().Deployments(ns).Create(e.ctx, webDeployment(ns, 2), metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.waitPods(ns, 2)
	e.kubectl("delete", "deploy/web", "-n", ns, "--cascade=foreground", "--wait=false")
	d, err := e.Client.AppsV1().Deployments(ns).Get(e.ctx, "web", metav1.GetOptions{})
	if err == nil && (d.DeletionTimestamp == nil || !strings.Contains(strings.Join(d.Finalizers, ","), metav1.FinalizerDeleteDependents)) {
		e.t.Errorf("deployment in foreground deletion: %+v", d.ObjectMeta)
	}
	e.eventually(20*time.Second, "deployment, replica set and pods gone", func() (bool, string) {
		c := e.counts(ns)
		return c == "0 0 0", c
	})
}

// testOrphan: the ReplicaSet and pods stay, without the reference to the
// deleted Deployment.
func testOrphan(e *env, ns string) {
	if _, err := e.Client.AppsV1().Deployments(ns).Create(e.ctx, webDeployment(ns, 2), metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.waitPods(ns, 2)
	e.kubectl("delete", "deploy/web", "-n", ns, "--cascade=orphan")
	e.eventually(20*time.Second, "orphaned replica set", func() (bool, string) {
		rs, err := e.Client.AppsV1().ReplicaSets(ns).List(e.ctx, metav1.ListOptions{})
		if err != nil || len(rs.Items) != 1 {
			return false, describe(err, e.counts(ns))
		}
		return len(rs.Items[0].OwnerReferences) == 0 && e.counts(ns) == "0 1 2", e.counts(ns)
	})
	time.Sleep(300 * time.Millisecond)
	if c := e.counts(ns); c != "0 1 2" {
		e.t.Errorf("after orphaning: %s", c)
	}
}

// testServiceSlices: an EndpointSlice owned by a Service goes with it.
func testServiceSlices(e *env, ns string) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}
	created, err := e.Client.CoreV1().Services(ns).Create(e.ctx, svc, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "db-manual", Namespace: ns,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "db", UID: created.UID}}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	if _, err := e.Client.DiscoveryV1().EndpointSlices(ns).Create(e.ctx, slice, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.Client.CoreV1().Services(ns).Delete(e.ctx, "db", metav1.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually(10*time.Second, "slice gone", func() (bool, string) {
		_, err := e.Client.DiscoveryV1().EndpointSlices(ns).Get(e.ctx, "db-manual", metav1.GetOptions{})
		return apierrors.IsNotFound(err), describe(err, "get slice")
	})
}

// testNamespaceDeletion deletes a namespace with a Deployment, a Service
// and a ConfigMap: everything goes, then the namespace.
func testNamespaceDeletion(e *env, ns string) {
	if _, err := e.Client.AppsV1().Deployments(ns).Create(e.ctx, webDeployment(ns, 2), metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}, Data: map[string]string{"a": "b"}}
	if _, err := e.Client.CoreV1().ConfigMaps(ns).Create(e.ctx, cm, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := e.Client.CoreV1().Services(ns).Create(e.ctx, svc, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.waitPods(ns, 2)
	out := e.kubectl("delete", "namespace", ns, "--timeout=30s")
	if !strings.Contains(out, `namespace "`+ns+`" deleted`) {
		e.t.Errorf("kubectl delete namespace: %s", out)
	}
	_, err := e.Client.CoreV1().Namespaces().Get(e.ctx, ns, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		e.t.Errorf("namespace still there: %v", err)
	}
}
