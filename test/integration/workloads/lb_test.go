package workloads

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/testcluster"
)

func lbService(ns, name, ip string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerIP: ip,
			Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
}

// ingress waits until the Service's ingress is want ("" for none).
func (e *env) ingress(ns, name, want string) {
	e.t.Helper()
	e.eventually(10*time.Second, fmt.Sprintf("%s ingress %q", name, want), func() (bool, string) {
		svc, err := e.Client.CoreV1().Services(ns).Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		got := ""
		for _, in := range svc.Status.LoadBalancer.Ingress {
			got = in.IP
			if in.IPMode == nil || *in.IPMode != corev1.LoadBalancerIPModeVIP {
				return false, "ipMode not VIP"
			}
		}
		return got == want, got
	})
}

// TestLoadBalancer assigns addresses from 192.0.2.10-192.0.2.12.
func TestLoadBalancer(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("lb")
	svcs := e.Client.CoreV1().Services(ns)
	for _, s := range []*corev1.Service{lbService(ns, "a", ""), lbService(ns, "b", "192.0.2.12")} {
		if _, err := svcs.Create(e.ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.ingress(ns, "a", "192.0.2.10")
	e.ingress(ns, "b", "192.0.2.12")
	if out := e.kubectl("get", "svc", "a", "-n", ns, "--no-headers"); strings.Fields(out)[3] != "192.0.2.10" {
		t.Errorf("kubectl get svc: %s", out)
	}
	for _, name := range []string{"c", "d"} {
		if _, err := svcs.Create(e.ctx, lbService(ns, name, ""), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.ingress(ns, "c", "192.0.2.11")
	time.Sleep(300 * time.Millisecond)
	e.ingress(ns, "d", "")
	if out := e.kubectl("get", "svc", "d", "-n", ns, "--no-headers"); strings.Fields(out)[3] != "<pending>" {
		t.Errorf("kubectl get svc: %s", out)
	}
	// Turning a into a ClusterIP Service frees its address for d.
	_, err := svcs.Patch(e.ctx, "a", "application/merge-patch+json", []byte(`{"spec":{"type":"ClusterIP"}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.ingress(ns, "a", "")
	e.ingress(ns, "d", "192.0.2.10")
	if err := svcs.Delete(e.ctx, "c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(e.ctx, lbService(ns, "e", "192.0.2.11"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.ingress(ns, "e", "192.0.2.11")
}
