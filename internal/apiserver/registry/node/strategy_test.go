package node

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func validNode() *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	n.Spec.PodCIDR = "10.244.1.0/24"
	n.Status.Capacity = corev1.ResourceList{"cpu": resource.MustParse("2"), "pods": resource.MustParse("110")}
	Default(n)
	return n
}

func TestDefault(t *testing.T) {
	n := validNode()
	if !slices.Equal(n.Spec.PodCIDRs, []string{"10.244.1.0/24"}) || n.Status.Allocatable.Cpu().String() != "2" {
		t.Errorf("defaults: spec %+v allocatable %v", n.Spec, n.Status.Allocatable)
	}
	dual := &corev1.Node{Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.1.0/24", "fd00:1::/64"}}}
	Default(dual)
	if dual.Spec.PodCIDR != "10.244.1.0/24" || len(dual.Spec.PodCIDRs) != 2 {
		t.Errorf("dual-stack defaults: %+v", dual.Spec)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Node)
		want   []string
	}{
		{"valid", func(*corev1.Node) {}, nil},
		{"dual stack", func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.1.0/24", "fd00:1::/64"} }, nil},
		{"invalid CIDR", func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.1.1/24"} },
			[]string{`spec.podCIDRs[0]: Invalid value: "10.244.1.1/24": must not have bits set beyond the prefix length`}},
		{"two IPv4 CIDRs", func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.1.0/24", "10.245.1.0/24"} },
			[]string{`spec.podCIDRs: Invalid value: ["10.244.1.0/24","10.245.1.0/24"]: may specify no more than one CIDR for each IP family`}},
		{"negative capacity", func(n *corev1.Node) { n.Status.Capacity["memory"] = resource.MustParse("-1Gi") },
			[]string{`status.capacity.memory: Invalid value: "-1Gi": must be greater than or equal to 0`}},
		{"duplicate taint", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: "NoSchedule"}, {Key: "k", Value: "v", Effect: "NoSchedule"}}
		}, []string{`metadata.taints[1]: Duplicate value: {"key":"k","value":"v","effect":"NoSchedule"}: taints must be unique by key and effect pair`}},
		{"taint effect", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: "Never"}} },
			[]string{`metadata.taints[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := validNode()
			tc.mutate(n)
			checkErrors(t, Validate(context.Background(), n), tc.want)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	unset := validNode()
	unset.Spec.PodCIDR, unset.Spec.PodCIDRs = "", nil
	tests := []struct {
		name   string
		old    *corev1.Node
		mutate func(*corev1.Node)
		want   []string
	}{
		{"podCIDR from empty", unset, func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.2.0/24"} }, nil},
		{"podCIDR changed", validNode(), func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.2.0/24"} },
			[]string{`spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`}},
		{"unschedulable", validNode(), func(n *corev1.Node) { n.Spec.Unschedulable = true }, nil},
		{"providerID changed", func() *corev1.Node { n := validNode(); n.Spec.ProviderID = "a"; return n }(),
			func(n *corev1.Node) { n.Spec.ProviderID = "b" },
			[]string{`spec.providerID: Forbidden: node updates may not change providerID except from "" to valid`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.old.DeepCopy()
			tc.mutate(n)
			checkErrors(t, ValidateUpdate(context.Background(), n, tc.old), tc.want)
		})
	}
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	n := validNode()
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	n.Spec.ConfigSource = &corev1.NodeConfigSource{}
	PrepareForCreate(ctx, n)
	if len(n.Status.Conditions) != 1 || n.Spec.ConfigSource != nil {
		t.Errorf("create: status %+v configSource %v", n.Status, n.Spec.ConfigSource)
	}

	upd := n.DeepCopy()
	upd.Status.Conditions = nil
	upd.Spec.Unschedulable = true
	PrepareForUpdate(ctx, upd, n)
	if len(upd.Status.Conditions) != 1 || !upd.Spec.Unschedulable {
		t.Errorf("update: %+v", upd)
	}

	st := n.DeepCopy()
	st.Spec.Unschedulable = true
	st.Status.Conditions = nil
	PrepareForStatusUpdate(ctx, st, n)
	if st.Spec.Unschedulable || st.Status.Conditions != nil {
		t.Errorf("status update: %+v", st)
	}
	checkErrors(t, ValidateStatusUpdate(ctx, st, n), nil)
}

func TestFieldSet(t *testing.T) {
	n := validNode()
	n.Spec.Unschedulable = true
	want := fields.Set{"metadata.name": "node-a", "spec.unschedulable": "true"}
	if got := Strategy().FieldSet(n); !maps.Equal(got, want) {
		t.Errorf("FieldSet %v, want %v", got, want)
	}
}
