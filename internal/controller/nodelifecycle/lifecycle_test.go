package nodelifecycle

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func readyNode(status corev1.ConditionStatus, heartbeat time.Time) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: status, LastHeartbeatTime: metav1.NewTime(heartbeat)},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
		}},
	}
}

func lease(renew time.Time) *coordinationv1.Lease {
	t := metav1.NewMicroTime(renew)
	return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &t}}
}

func TestObserve(t *testing.T) {
	grace := 40 * time.Second
	node := readyNode(corev1.ConditionTrue, now.Add(-time.Minute))
	steps := []struct {
		at     time.Duration
		renew  time.Duration // lease renew time, relative to now
		silent bool
	}{
		{0, 0, false},
		{30 * time.Second, 0, false},
		{41 * time.Second, 0, true},
		{50 * time.Second, 45 * time.Second, false},
		{80 * time.Second, 45 * time.Second, false},
		{91 * time.Second, 45 * time.Second, true},
	}
	var h *health
	for i, s := range steps {
		at := now.Add(s.at)
		h = observe(h, node, lease(now.Add(s.renew)), at)
		if got := h.silent(at, grace); got != s.silent {
			t.Errorf("step %d: silent %v, want %v", i, got, s.silent)
		}
	}
}

func TestUnknownConditions(t *testing.T) {
	node := readyNode(corev1.ConditionTrue, now.Add(-time.Minute))
	if !unknownConditions(node, now) {
		t.Fatal("nothing changed")
	}
	var got []string
	for _, c := range node.Status.Conditions {
		got = append(got, fmt.Sprintf("%s=%s %s %q", c.Type, c.Status, c.Reason, c.Message))
	}
	want := []string{
		`Ready=Unknown NodeStatusUnknown "Kubelet stopped posting node status."`,
		`MemoryPressure=Unknown NodeStatusUnknown "Kubelet stopped posting node status."`,
		`DiskPressure=Unknown NodeStatusNeverUpdated "Kubelet never posted node status."`,
		`PIDPressure=Unknown NodeStatusNeverUpdated "Kubelet never posted node status."`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s", strings.Join(got, "\n"))
	}
	if !node.Status.Conditions[0].LastHeartbeatTime.Equal(&metav1.Time{Time: now.Add(-time.Minute)}) {
		t.Error("heartbeat changed")
	}
	if unknownConditions(node, now) {
		t.Error("second call changed something")
	}
}

func taintString(taints []corev1.Taint) string {
	var out []string
	for _, t := range taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestTaints(t *testing.T) {
	custom := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	unreachable := corev1.Taint{Key: TaintUnreachable, Effect: corev1.TaintEffectNoSchedule}
	cases := []struct {
		name    string
		status  corev1.ConditionStatus
		cordon  bool
		have    []corev1.Taint
		want    string
		changed bool
	}{
		{"ready keeps custom", corev1.ConditionTrue, false, []corev1.Taint{custom}, "dedicated:NoSchedule", false},
		{"unknown", corev1.ConditionUnknown, false, []corev1.Taint{custom},
			"dedicated:NoSchedule node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule", true},
		{"not ready", corev1.ConditionFalse, false, nil, "node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/not-ready:NoSchedule", true},
		{"recovered", corev1.ConditionTrue, false, []corev1.Taint{unreachable}, "", true},
		{"cordoned", corev1.ConditionTrue, true, nil, "node.kubernetes.io/unschedulable:NoSchedule", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			node := readyNode(tc.status, now)
			node.Spec.Unschedulable = tc.cordon
			got, changed := reconcileTaints(tc.have, desiredTaints(node), now)
			if taintString(got) != tc.want || changed != tc.changed {
				t.Errorf("got %q %v, want %q %v", taintString(got), changed, tc.want, tc.changed)
			}
		})
	}
}

func TestSetNotReady(t *testing.T) {
	pod := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	if !setNotReady(pod, now) || pod.Status.Conditions[0].Status != corev1.ConditionFalse {
		t.Error("ready pod not marked")
	}
	if setNotReady(pod, now) {
		t.Error("not-ready pod marked again")
	}
}

func TestGraceForStartingNodes(t *testing.T) {
	c := &Controller{cfg: Config{GracePeriod: 40 * time.Second, StartupGracePeriod: 60 * time.Second}}
	starting := &corev1.Node{}
	running := &corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	if g := c.graceFor(starting); g != 60*time.Second {
		t.Errorf("starting node: %v", g)
	}
	if g := c.graceFor(running); g != 40*time.Second {
		t.Errorf("running node: %v", g)
	}
}
