package workloads

import (
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/testcluster"
)

// TestResourceQuota: the resourcequota controller fills a quota's status,
// admission refuses the pod over it with upstream's text, an RC asking
// for more surfaces ReplicaFailure and loses it once scaled within the
// quota (upstream's RC "exceeded quota" conformance spec), kubectl prints
// used/hard, and a deleted pod gives its unit back.
func TestResourceQuota(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("quota")
	e.addNode("node-q", nil, true)
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "condition-test"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("2")}}}
	if _, err := e.Client.CoreV1().ResourceQuotas(ns).Create(e.ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually(10*time.Second, "quota status", func() (bool, string) {
		got, err := e.Client.CoreV1().ResourceQuotas(ns).Get(e.ctx, q.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		h, u := got.Status.Hard[corev1.ResourcePods], got.Status.Used[corev1.ResourcePods]
		return h.String() == "2" && u.String() == "0", h.String() + " " + u.String()
	})
	if _, errOut, err := e.KubectlResult(strings.ReplaceAll(strings.ReplaceAll(rcManifest, "NS", ns), "replicas: 2", "replicas: 3"), "apply", "-f", "-"); err != nil {
		t.Fatalf("apply rc: %v\n%s", err, errOut)
	}
	e.eventually(20*time.Second, "ReplicaFailure", func() (bool, string) {
		rc, err := e.Client.CoreV1().ReplicationControllers(ns).Get(e.ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range rc.Status.Conditions {
			if c.Type == corev1.ReplicationControllerReplicaFailure {
				return c.Reason == "FailedCreate" && strings.Contains(c.Message, "exceeded quota: condition-test, requested: pods=1, used: pods=2, limited: pods=2"), c.Message
			}
		}
		return false, "no condition"
	})
	if n := len(e.pods(ns)); n != 2 {
		t.Errorf("%d pods, want 2", n)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "extra"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	_, err := e.Client.CoreV1().Pods(ns).Create(e.ctx, pod, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || err.Error() != `pods "extra" is forbidden: exceeded quota: condition-test, requested: pods=1, used: pods=2, limited: pods=2` {
		t.Errorf("create over quota: %v", err)
	}
	if out := e.kubectl("get", "quota", "-n", ns); !regexp.MustCompile(`(?m)^condition-test +\S+ +pods: 2/2 +$`).MatchString(out) {
		t.Errorf("kubectl get quota:\n%s", out)
	}
	e.kubectl("scale", "rc", "web", "-n", ns, "--replicas=2")
	e.eventually(20*time.Second, "no ReplicaFailure", func() (bool, string) {
		rc, err := e.Client.CoreV1().ReplicationControllers(ns).Get(e.ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return rc.Status.ObservedGeneration >= rc.Generation && len(rc.Status.Conditions) == 0, describe(nil, "conditions")
	})
	testQuotaRelease(e, ns)
}

// testQuotaRelease: deleting a pod lowers used, so the RC's replacement
// is admitted.
func testQuotaRelease(e *env, ns string) {
	pods := e.pods(ns)
	if err := e.Client.CoreV1().Pods(ns).Delete(e.ctx, pods[0].Name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually(20*time.Second, "replacement pod", func() (bool, string) {
		ps := e.pods(ns)
		return len(ps) == 2 && ps[0].Name != pods[0].Name && ps[1].Name != pods[0].Name, "pods"
	})
}
