package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// node is a Ready node with labels.
func node(name string, labels map[string]string, opts ...func(*corev1.Node)) NodeInfo {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(n)
	}
	return NodeInfo{Node: n}
}

func notReady(s corev1.ConditionStatus) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Status.Conditions[0].Status = s }
}

func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }

func allocatable(cpu string, pods int64) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu),
			corev1.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)}
	}
}

func withPods(n NodeInfo, pods int) NodeInfo { n.Pods = pods; return n }

func TestSchedule(t *testing.T) {
	plain := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	selecting := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}}
	affine := &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}},
			{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n9"}}}},
		}}}}}}
	hungry := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}}}
	tolerant := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: taintUnreachable, Operator: corev1.TolerationOpExists}}}}
	never := selecting.DeepCopy()
	never.Spec.PreemptionPolicy = ptr.To(corev1.PreemptNever)
	cases := []struct {
		name  string
		pod   *corev1.Pod
		nodes []NodeInfo
		want  string
		err   string
	}{
		{"fewest pods", plain, []NodeInfo{withPods(node("n1", nil), 3), withPods(node("n2", nil), 1), withPods(node("n3", nil), 2)}, "n2", ""},
		{"ties by name", plain, []NodeInfo{node("n2", nil), node("n1", nil)}, "n1", ""},
		{"no nodes", plain, nil, "", "no nodes available to schedule pods"},
		{"selector", selecting, []NodeInfo{node("n1", nil), node("n2", map[string]string{"disk": "ssd"})}, "n2", ""},
		{"selector matches none", selecting, []NodeInfo{node("n1", nil), node("n2", nil)}, "",
			"0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."},
		{"preemption never", never, []NodeInfo{node("n1", nil)}, "",
			"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. not eligible due to preemptionPolicy=Never."},
		{"affinity expressions", affine, []NodeInfo{node("n1", map[string]string{"zone": "a"}), node("n2", map[string]string{"zone": "b"})}, "n2", ""},
		{"affinity fields", affine, []NodeInfo{node("n1", map[string]string{"zone": "a"}), node("n9", nil)}, "n9", ""},
		{"not ready and cordoned", plain, []NodeInfo{node("n1", nil, notReady(corev1.ConditionFalse)), node("n2", nil, notReady(corev1.ConditionUnknown)), node("n3", nil, cordoned)}, "",
			"0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."},
		{"toleration", tolerant, []NodeInfo{node("n1", nil, notReady(corev1.ConditionUnknown))}, "n1", ""},
		{"resources", hungry, []NodeInfo{node("n1", nil, allocatable("1", 110)), node("n2", nil, allocatable("4", 110))}, "n2", ""},
		{"too many pods", plain, []NodeInfo{withPods(node("n1", nil, allocatable("4", 2)), 2), node("n2", map[string]string{"x": "y"}, cordoned)}, "",
			"0/2 nodes are available: 1 Too many pods, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Schedule(tc.pod, tc.nodes)
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			if got != tc.want || errText != tc.err {
				t.Errorf("got %q, %q\nwant %q, %q", got, errText, tc.want, tc.err)
			}
		})
	}
}

func TestSetCondition(t *testing.T) {
	now := metav1.Now()
	var s corev1.PodStatus
	c := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "m"}
	if !setCondition(&s, c, now) || len(s.Conditions) != 1 {
		t.Fatal("condition not added")
	}
	if setCondition(&s, c, now) {
		t.Error("unchanged condition rewritten")
	}
	c.Message = "other"
	if !setCondition(&s, c, now) || s.Conditions[0].Message != "other" {
		t.Error("message not updated")
	}
}
