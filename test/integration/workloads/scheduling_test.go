package workloads

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/svcplane/svcplane/internal/testcluster"
)

func pod(ns, name string, selector map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{NodeSelector: selector,
			Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "3600"}}}},
	}
}

// TestScheduling covers a pod nothing fits (PodScheduled=False and
// upstream's FailedScheduling text, also in kubectl describe), then
// scheduled once a node gets the label, and the binding subresource's
// conflict when bound twice.
func TestScheduling(t *testing.T) {
	testcluster.NeedKubectl(t)
	e := start(t)
	ns := e.namespace("sched")
	e.addNode("node-a", nil, false)
	e.addNode("node-b", nil, false)
	if _, err := e.Client.CoreV1().Pods(ns).Create(e.ctx, pod(ns, "picky", map[string]string{"disk": "ssd"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. " +
		"preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
	// A node whose Ready status is not posted yet may still carry the
	// node lifecycle's unreachable taint at the first attempt, whose event
	// then says so: wait for the attempt that sees both nodes Ready.
	e.eventually(10*time.Second, "FailedScheduling", func() (bool, string) {
		got := e.events(ns, "picky", "FailedScheduling")
		return slices.Contains(got, want), strings.Join(got, "; ")
	})
	e.eventually(10*time.Second, "PodScheduled False, Unschedulable", func() (bool, string) {
		p, err := e.Client.CoreV1().Pods(ns).Get(e.ctx, "picky", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		c := podCondition(p, corev1.PodScheduled)
		return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "Unschedulable" && c.Message == want, fmt.Sprintf("%+v", c)
	})
	if out := e.kubectl("describe", "pod", "picky", "-n", ns); !strings.Contains(out, "FailedScheduling") || !strings.Contains(out, want) {
		t.Errorf("describe pod:\n%s", out)
	}
	e.kubectl("label", "node", "node-b", "disk=ssd")
	e.eventually(10*time.Second, "picky scheduled on node-b", func() (bool, string) {
		p, err := e.Client.CoreV1().Pods(ns).Get(e.ctx, "picky", metav1.GetOptions{})
		return err == nil && p.Spec.NodeName == "node-b", describe(err, "node "+p.Spec.NodeName)
	})
	e.eventually(10*time.Second, "Scheduled event", func() (bool, string) {
		got := e.events(ns, "picky", "Scheduled")
		return len(got) == 1 && got[0] == "Successfully assigned sched/picky to node-b", strings.Join(got, "; ")
	})
	testBindConflict(e, ns)
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// testBindConflict binds an already bound pod: 409, as upstream.
func testBindConflict(e *env, ns string) {
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "picky", Namespace: ns}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-a"}}
	err := e.Client.CoreV1().Pods(ns).Bind(e.ctx, b, metav1.CreateOptions{})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `pod picky is already assigned to node "node-b"`) {
		e.t.Errorf("second bind: %v", err)
	}
	b.Name, b.UID = "missing", types.UID("x")
	if err := e.Client.CoreV1().Pods(ns).Bind(e.ctx, b, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
		e.t.Errorf("bind of a missing pod: %v", err)
	}
}

// TestNoReadyNodes: with the only node not ready, pods wait with the
// not-ready taint as the reason.
func TestNoReadyNodes(t *testing.T) {
	e := start(t)
	ns := e.namespace("noready")
	e.addNode("node-a", nil, false)
	// The controllers write the new Node too (its pod CIDR): retry on a
	// conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := e.Client.CoreV1().Nodes().Get(e.ctx, "node-a", metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Conditions[0].Status, n.Status.Conditions[0].Reason = corev1.ConditionFalse, "KubeletNotReady"
		_, err = e.Client.CoreV1().Nodes().UpdateStatus(e.ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.CoreV1().Pods(ns).Create(e.ctx, pod(ns, "waiting", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. " +
		"preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	e.eventually(10*time.Second, "FailedScheduling", func() (bool, string) {
		got := e.events(ns, "waiting", "FailedScheduling")
		return len(got) > 0 && got[len(got)-1] == want, strings.Join(got, "; ")
	})
	e.eventually(5*time.Second, "not-ready taints", func() (bool, string) {
		n, err := e.Client.CoreV1().Nodes().Get(e.ctx, "node-a", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(n.Spec.Taints) == 2 && n.Spec.Taints[0].Key == "node.kubernetes.io/not-ready", describe(nil, "taints "+taintList(n.Spec.Taints))
	})
}

func taintList(taints []corev1.Taint) string {
	var out []string
	for _, t := range taints {
		out = append(out, t.ToString())
	}
	return strings.Join(out, ",")
}
