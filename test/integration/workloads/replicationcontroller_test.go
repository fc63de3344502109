package workloads

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/svcplane/svcplane/internal/testcluster"
)

const rcManifest = `apiVersion: v1
kind: ReplicationController
metadata: {name: web, namespace: NS}
spec:
  replicas: 2
  selector: {name: web}
  template:
    metadata: {labels: {name: web}}
    spec:
      containers: [{name: nginx, image: nginx:1.25}]
`

// TestReplicationController: an RC keeps its pods (owned through a
// controller reference), kubectl prints and scales it, and deleting it
// lets the garbage collector take its pods.
func TestReplicationController(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("rc")
	e.addNode("node-a", nil, true)
	if _, errOut, err := e.KubectlResult(strings.ReplaceAll(rcManifest, "NS", ns), "apply", "-f", "-"); err != nil {
		t.Fatalf("apply rc: %v\n%s", err, errOut)
	}
	pods := e.waitPods(ns, 2)
	if ref := metav1.GetControllerOf(&pods[0]); ref == nil || ref.Kind != "ReplicationController" || ref.APIVersion != "v1" ||
		!strings.HasPrefix(pods[0].Name, "web-") {
		t.Errorf("pod %s owner %+v", pods[0].Name, ref)
	}
	e.eventually(10*time.Second, "rc ready 2", func() (bool, string) {
		out := e.kubectl("get", "rc", "web", "-n", ns, "-o", "wide")
		return regexp.MustCompile(`^NAME +DESIRED +CURRENT +READY +AGE +CONTAINERS +IMAGES +SELECTOR\nweb +2 +2 +2 +\S+ +nginx +nginx:1.25 +name=web\n$`).MatchString(out), out
	})
	if out := e.kubectl("scale", "rc", "web", "-n", ns, "--replicas=3"); !strings.Contains(out, "replicationcontroller/web scaled") {
		t.Errorf("kubectl scale: %s", out)
	}
	e.waitPods(ns, 3)
	scale, err := e.Client.CoreV1().ReplicationControllers(ns).GetScale(e.ctx, "web", metav1.GetOptions{})
	if err != nil || scale.Spec.Replicas != 3 || scale.Status.Selector != "name=web" {
		t.Errorf("scale %+v: %v", scale, err)
	}
	e.kubectl("delete", "rc", "web", "-n", ns)
	e.eventually(15*time.Second, "pods collected", func() (bool, string) {
		list, err := e.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{LabelSelector: labels.Set{"name": "web"}.String()})
		return err == nil && len(list.Items) == 0, describe(err, "list")
	})
	testRCOrphansByDefault(e, ns)
}

// testRCOrphansByDefault: a delete without a propagation policy (not
// kubectl's, which asks for Background) orphans an RC's pods, as upstream
// keeps for core/v1 ReplicationControllers.
func testRCOrphansByDefault(e *env, ns string) {
	if _, errOut, err := e.KubectlResult(strings.ReplaceAll(strings.ReplaceAll(rcManifest, "NS", ns), "replicas: 2", "replicas: 1"), "apply", "-f", "-"); err != nil {
		e.t.Fatalf("apply rc: %v\n%s", err, errOut)
	}
	e.waitPods(ns, 1)
	if err := e.Client.CoreV1().ReplicationControllers(ns).Delete(e.ctx, "web", metav1.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually(15*time.Second, "rc gone, its pod orphaned", func() (bool, string) {
		_, err := e.Client.CoreV1().ReplicationControllers(ns).Get(e.ctx, "web", metav1.GetOptions{})
		pods := e.pods(ns)
		return apierrors.IsNotFound(err) && len(pods) == 1 && len(pods[0].OwnerReferences) == 0,
			fmt.Sprintf("rc: %v, %d pods", err, len(pods))
	})
}

// TestStatusKeepsMetadata: a merge patch of the status subresource with
// metadata.annotations applies both, for each resource with a status.
func TestStatusKeepsMetadata(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("status")
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := e.Client.CoreV1().Services(ns).Create(e.ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.CoreV1().Pods(ns).Create(e.ctx, pod(ns, "p", map[string]string{"none": "x"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.AppsV1().Deployments(ns).Create(e.ctx, webDeployment(ns, 0), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.addNode("node-s", nil, false)
	zero := strings.NewReplacer("NS", ns, "replicas: 2", "replicas: 0").Replace(rcManifest)
	rs := strings.NewReplacer("apiVersion: v1\nkind: ReplicationController", "apiVersion: apps/v1\nkind: ReplicaSet",
		"selector: {name: web}", "selector: {matchLabels: {name: web}}", "name: web, namespace", "name: web-rs, namespace").Replace(zero)
	for _, m := range []string{zero, rs} {
		if _, errOut, err := e.KubectlResult(m, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, errOut)
		}
	}
	cases := []struct{ name, resource, obj, status string }{
		{"service", "services", "web", `"status":{"conditions":[{"type":"Probed","status":"True","reason":"R","message":"m","lastTransitionTime":"2024-01-01T00:00:00Z"}]}`},
		{"pod", "pods", "p", `"status":{"message":"from test"}`},
		{"node", "nodes", "node-s", `"status":{"phase":"Running"}`},
		{"deployment", "deployments", "web", `"status":{"observedGeneration":1}`},
		{"replicaset", "replicasets", "web-rs", `"status":{"replicas":0}`},
		{"replicationcontroller", "replicationcontrollers", "web", `"status":{"replicas":0}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			patch := `{"metadata":{"annotations":{"test/patched":"yes"}},` + tc.status + `}`
			args := []string{"patch", tc.resource, tc.obj, "--subresource=status", "--type=merge", "-p", patch,
				"-o", "jsonpath={.metadata.annotations.test/patched}"}
			if tc.resource != "nodes" {
				args = append(args, "-n", ns)
			}
			if out := e.kubectl(args...); out != "yes" {
				t.Errorf("annotation after status patch: %q", out)
			}
		})
	}
	if out := e.kubectl("get", "svc", "web", "-n", ns, "-o", "jsonpath={.status.conditions[0].type}"); out != "Probed" {
		t.Errorf("service status after the patch: condition %q, want Probed", out)
	}
}

// TestUnservedResource: an unserved resource answers kube-apiserver's 404.
func TestUnservedResource(t *testing.T) {
	e := start(t)
	err := e.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default/widgets").Do(e.ctx).Error()
	if !apierrors.IsNotFound(err) || err.Error() != "the server could not find the requested resource" {
		t.Errorf("unserved resource: %v", err)
	}
}
