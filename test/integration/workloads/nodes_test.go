package workloads

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNodes covers pod CIDRs and what happens to a node that stops
// renewing its Lease.
func TestNodes(t *testing.T) {
	e := start(t)
	t.Run("ipam", func(t *testing.T) { testNodeIPAM(e.with(t)) })
	t.Run("lease expiry", func(t *testing.T) { testLeaseExpiry(e.with(t), e.namespace("lease")) })
}

// testNodeIPAM: distinct /24s of 10.244.0.0/16, a CIDR set by hand is
// never handed out again, and a deleted node's CIDR is not reused first.
func testNodeIPAM(e *env) {
	manual := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "manual"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24"}}
	if _, err := e.Client.CoreV1().Nodes().Create(e.ctx, manual, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	names := []string{"ipam-1", "ipam-2", "ipam-3"}
	for _, n := range names {
		e.addNode(n, nil, false)
	}
	cidrs := e.podCIDRs(append(names, "manual"))
	seen := map[string]string{}
	for name, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil || p.Bits() != 24 || !netip.MustParsePrefix("10.244.0.0/16").Contains(p.Addr()) {
			e.t.Errorf("node %s: pod CIDR %q", name, c)
		}
		if other, dup := seen[c]; dup {
			e.t.Errorf("nodes %s and %s share %s", name, other, c)
		}
		seen[c] = name
	}
	if err := e.Client.CoreV1().Nodes().Delete(e.ctx, "ipam-1", metav1.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.addNode("ipam-4", nil, false)
	if c := e.podCIDRs([]string{"ipam-4"})["ipam-4"]; seen[c] != "" {
		e.t.Errorf("ipam-4 got %s, reused from %s", c, seen[c])
	}
}

// podCIDRs waits until the nodes have a pod CIDR and returns them.
func (e *env) podCIDRs(names []string) map[string]string {
	out := map[string]string{}
	e.eventually(10*time.Second, "pod CIDRs", func() (bool, string) {
		for _, name := range names {
			n, err := e.Client.CoreV1().Nodes().Get(e.ctx, name, metav1.GetOptions{})
			if err != nil || n.Spec.PodCIDR == "" || len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
				return false, fmt.Sprintf("%s: %v %v", name, err, n.Spec.PodCIDRs)
			}
			out[name] = n.Spec.PodCIDR
		}
		return true, ""
	})
	return out
}

// testLeaseExpiry: a node whose Lease is not renewed for the grace period
// (2s here) turns NotReady as upstream words it, gets the unreachable
// taints, and its ready pod turns not ready.
func testLeaseExpiry(e *env, ns string) {
	stop := e.addNode("dying", map[string]string{"role": "dying"}, true)
	if _, err := e.Client.CoreV1().Pods(ns).Create(e.ctx, pod(ns, "victim", map[string]string{"role": "dying"}), metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.waitPods(ns, 1)
	e.kwok.stop("dying")
	time.Sleep(time.Second)
	if s := readyOf(e, "dying"); s.Status != corev1.ConditionTrue {
		e.t.Fatalf("node not ready while its lease is renewed: %+v", s)
	}
	stop()
	e.eventually(10*time.Second, "node NotReady", func() (bool, string) {
		c := readyOf(e, "dying")
		return c.Status == corev1.ConditionUnknown && c.Reason == "NodeStatusUnknown" && c.Message == "Kubelet stopped posting node status.",
			fmt.Sprintf("%+v", c)
	})
	e.eventually(5*time.Second, "unreachable taints", func() (bool, string) {
		n, err := e.Client.CoreV1().Nodes().Get(e.ctx, "dying", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		got := taintList(n.Spec.Taints)
		return got == "node.kubernetes.io/unreachable:NoSchedule,node.kubernetes.io/unreachable:NoExecute", got
	})
	e.eventually(5*time.Second, "pod not ready", func() (bool, string) {
		p, err := e.Client.CoreV1().Pods(ns).Get(e.ctx, "victim", metav1.GetOptions{})
		return err == nil && !isReady(p), describe(err, "ready condition")
	})
	if out := e.kubectl("get", "node", "dying", "--no-headers"); !strings.Contains(out, "NotReady") {
		e.t.Errorf("kubectl get node: %s", out)
	}
}

func readyOf(e *env, node string) corev1.NodeCondition {
	n, err := e.Client.CoreV1().Nodes().Get(e.ctx, node, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c
		}
	}
	return corev1.NodeCondition{}
}
