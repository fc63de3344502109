package poddisruptionbudget

import (
	"context"
	"strings"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func pdbOf(spec policyv1.PodDisruptionBudgetSpec) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "d"}, Spec: spec}
}

func TestValidate(t *testing.T) {
	i := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	s := func(x string) *intstr.IntOrString { v := intstr.FromString(x); return &v }
	bad := policyv1.UnhealthyPodEvictionPolicyType("Sometimes")
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"foo": "bar"}}
	for _, tc := range []struct {
		name string
		spec policyv1.PodDisruptionBudgetSpec
		want string // a substring of the errors; "" for none
	}{
		{"int", policyv1.PodDisruptionBudgetSpec{Selector: sel, MinAvailable: i(2)}, ""},
		{"percent", policyv1.PodDisruptionBudgetSpec{Selector: sel, MaxUnavailable: s("10%")}, ""},
		{"no selector", policyv1.PodDisruptionBudgetSpec{MinAvailable: i(1)}, ""},
		{"both", policyv1.PodDisruptionBudgetSpec{MinAvailable: i(1), MaxUnavailable: i(1)}, "spec: Invalid value: "},
		{"negative", policyv1.PodDisruptionBudgetSpec{MinAvailable: i(-1)}, "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"},
		{"over 100%", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: s("101%")}, "spec.maxUnavailable: Invalid value: \"101%\": must not be greater than 100%"},
		{"not a percent", policyv1.PodDisruptionBudgetSpec{MinAvailable: s("half")}, "spec.minAvailable: Invalid value: \"half\""},
		{"policy", policyv1.PodDisruptionBudgetSpec{UnhealthyPodEvictionPolicy: &bad}, `spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"`},
		{"selector", policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a b": "c"}}}, "spec.selector.matchLabels"},
	} {
		errs := Validate(context.Background(), pdbOf(tc.spec))
		got := errs.ToAggregate()
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("%s: %v", tc.name, got)
		case tc.want != "" && (got == nil || !strings.Contains(got.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, got, tc.want)
		}
	}
}

func TestGenerationAndStatus(t *testing.T) {
	ctx := context.Background()
	two, three := intstr.FromInt32(2), intstr.FromInt32(3)
	p := pdbOf(policyv1.PodDisruptionBudgetSpec{MinAvailable: &two})
	p.Status.DisruptionsAllowed = 5
	PrepareForCreate(ctx, p)
	if p.Generation != 1 || p.Status.DisruptionsAllowed != 0 {
		t.Fatalf("create: generation %d, status %+v", p.Generation, p.Status)
	}
	old := p.DeepCopy()
	old.Status.ObservedGeneration = 1
	upd := p.DeepCopy()
	upd.Spec.MinAvailable = &three
	upd.Status.DisruptionsAllowed = 9
	PrepareForUpdate(ctx, upd, old)
	if upd.Generation != 2 || upd.Status.ObservedGeneration != 1 || upd.Status.DisruptionsAllowed != 0 {
		t.Fatalf("update: generation %d, status %+v", upd.Generation, upd.Status)
	}
	st := old.DeepCopy()
	st.Spec.MinAvailable = &three
	st.Status.DisruptedPods = map[string]metav1.Time{"pod-0": metav1.Now()}
	PrepareForStatusUpdate(ctx, st, old)
	if st.Spec.MinAvailable.IntValue() != 2 || len(st.Status.DisruptedPods) != 1 {
		t.Fatalf("status update: spec %v, status %+v", st.Spec.MinAvailable, st.Status)
	}
	st.Status.CurrentHealthy = -1
	if errs := ValidateStatusUpdate(ctx, st, old); len(errs) != 1 || errs[0].Field != "status.currentHealthy" {
		t.Fatalf("status validation: %v", errs)
	}
}
