package workloads

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/testcluster"
)

const stsManifest = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1
`

// TestStatefulSet drives a StatefulSet with the real kubectl: pods made
// in ordinal order with their hostnames, `rollout status`, the Table,
// `scale` down from the highest ordinal, and a rolling update undone.
func TestStatefulSet(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("sts")
	e.addNode("node-a", nil, true)
	w, err := e.Client.CoreV1().Pods(ns).Watch(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, _, err := e.KubectlResult(stsManifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err)
	}
	out := e.kubectl("rollout", "status", "sts/web", "-n", ns, "--timeout=30s")
	// partition defaults to 0, which kubectl reports as a partitioned roll out.
	if !strings.Contains(out, "partitioned roll out complete: 3 new pods have been updated...") {
		t.Errorf("rollout status: %s", out)
	}
	if order := eventOrder(w, watch.Added, 3); order != "web-0 web-1 web-2" {
		t.Errorf("created in order %q", order)
	}
	for _, p := range e.pods(ns) {
		if p.Spec.Hostname != p.Name || p.Spec.Subdomain != "nginx" || p.Labels["statefulset.kubernetes.io/pod-name"] != p.Name {
			t.Errorf("pod %s: hostname %q subdomain %q labels %v", p.Name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
	}
	out = e.kubectl("get", "sts", "-n", ns)
	if !strings.Contains(out, "NAME   READY   AGE") || !strings.Contains(out, "web    3/3") {
		t.Errorf("get sts:\n%s", out)
	}
	e.kubectl("scale", "sts/web", "--replicas=1", "-n", ns)
	if order := eventOrder(w, watch.Deleted, 2); order != "web-2 web-1" {
		t.Errorf("deleted in order %q", order)
	}
	e.kubectl("scale", "sts/web", "--replicas=2", "-n", ns)
	e.kubectl("set", "image", "sts/web", "nginx=nginx:2", "-n", ns)
	out = e.kubectl("rollout", "status", "sts/web", "-n", ns, "--timeout=30s")
	if !strings.Contains(out, "partitioned roll out complete: 2 new pods have been updated...") {
		t.Errorf("rollout status after set image: %s", out)
	}
	e.kubectl("rollout", "undo", "sts/web", "-n", ns)
	e.eventually(30*time.Second, "pods back at nginx:1", func() (bool, string) {
		var seen []string
		n := 0
		for _, p := range e.pods(ns) {
			seen = append(seen, p.Name+"="+p.Spec.Containers[0].Image)
			if p.Spec.Containers[0].Image == "nginx:1" && isReady(&p) {
				n++
			}
		}
		return n == 2 && len(seen) == 2, strings.Join(seen, " ")
	})
}

// eventOrder returns the names of the next n pods seen with event type
// typ (deletions: once gone), in order.
func eventOrder(w watch.Interface, typ watch.EventType, n int) string {
	var names []string
	timeout := time.After(60 * time.Second)
	for len(names) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return strings.Join(names, " ") + " (watch closed)"
			}
			if p, isPod := ev.Object.(*corev1.Pod); isPod && ev.Type == typ {
				names = append(names, p.Name)
			}
		case <-timeout:
			return strings.Join(names, " ") + fmt.Sprintf(" (timed out waiting for %d)", n)
		}
	}
	return strings.Join(names, " ")
}
