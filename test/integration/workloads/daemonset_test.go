package workloads

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/controller/daemonset"
	"github.com/svcplane/svcplane/internal/testcluster"
)

const dsManifest = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      nodeSelector: {role: worker}
      containers:
      - name: agent
        image: agent:1
`

// TestDaemonSet drives a DaemonSet with the real kubectl: one pod per
// eligible node, the Table columns, a rolling update followed by
// `rollout status`, `rollout history`, `rollout undo` and a node joining.
func TestDaemonSet(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("ds")
	e.addNode("node-a", map[string]string{"role": "worker"}, true)
	e.addNode("node-b", map[string]string{"role": "worker"}, true)
	e.addNode("node-c", map[string]string{"role": "other"}, true)
	if _, _, err := e.KubectlResult(dsManifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err)
	}
	e.waitDaemonPods(ns, "agent:1", "node-a", "node-b")
	out := e.kubectl("rollout", "status", "ds/agent", "-n", ns, "--timeout=20s")
	if !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
		t.Errorf("rollout status: %s", out)
	}
	out = e.kubectl("get", "ds", "agent", "-n", ns, "-o", "wide")
	if !strings.Contains(out, "NAME    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE") ||
		!strings.Contains(out, "agent   2         2         2       2            2           role=worker") ||
		!strings.Contains(out, "agent        agent:1   app=agent") {
		t.Errorf("get ds -o wide:\n%s", out)
	}
	e.kubectl("set", "image", "ds/agent", "agent=agent:2", "-n", ns)
	out = e.kubectl("rollout", "status", "ds/agent", "-n", ns, "--timeout=30s")
	if !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
		t.Errorf("rollout status after set image: %s", out)
	}
	e.waitDaemonPods(ns, "agent:2", "node-a", "node-b")
	out = e.kubectl("rollout", "history", "ds/agent", "-n", ns)
	if !strings.Contains(out, "REVISION  CHANGE-CAUSE") || !strings.Contains(out, "1         <none>") || !strings.Contains(out, "2         <none>") {
		t.Errorf("rollout history:\n%s", out)
	}
	out = e.kubectl("rollout", "undo", "ds/agent", "-n", ns)
	if !strings.Contains(out, "daemonset.apps/agent rolled back") {
		t.Errorf("rollout undo: %s", out)
	}
	e.waitDaemonPods(ns, "agent:1", "node-a", "node-b")
	out = e.kubectl("get", "controllerrevisions", "-n", ns)
	if !strings.Contains(out, "daemonset.apps/agent   3") {
		t.Errorf("controllerrevisions:\n%s", out)
	}
	e.addNode("node-d", map[string]string{"role": "worker"}, true)
	e.waitDaemonPods(ns, "agent:1", "node-a", "node-b", "node-d")
}

// waitDaemonPods waits until the DaemonSet's live pods are one per named
// node, all running image, bound and ready.
func (e *env) waitDaemonPods(ns, image string, nodes ...string) {
	e.t.Helper()
	e.eventually(30*time.Second, fmt.Sprintf("pods of %s on %v", image, nodes), func() (bool, string) {
		var seen []string
		got := map[string]bool{}
		for _, p := range e.pods(ns) {
			seen = append(seen, fmt.Sprintf("%s@%s(%s,ready=%v)", p.Name, p.Spec.NodeName, p.Spec.Containers[0].Image, isReady(&p)))
			if p.Spec.Containers[0].Image == image && isReady(&p) && p.Spec.NodeName == daemonset.PodNode(&p) {
				got[p.Spec.NodeName] = true
			}
		}
		ok := len(seen) == len(nodes)
		for _, n := range nodes {
			ok = ok && got[n]
		}
		return ok, strings.Join(seen, " ")
	})
	ds, err := e.Client.AppsV1().DaemonSets(ns).Get(e.ctx, "agent", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	checkDaemonPods(e.t, ds, e.pods(ns))
}

func checkDaemonPods(t *testing.T, ds *appsv1.DaemonSet, pods []corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		if !strings.HasPrefix(p.Name, "agent-") || p.Labels[appsv1.ControllerRevisionHashLabelKey] == "" {
			t.Errorf("pod %s labels %v", p.Name, p.Labels)
		}
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.UID != ds.UID {
			t.Errorf("pod %s owner %+v", p.Name, ref)
		}
	}
}
