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
	t.Run("namespace", func(t *testing.T) { testNamespaceDeletion(e.with(t), e.namespace("doomed")) })
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
