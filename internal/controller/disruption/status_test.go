package disruption

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func pod(name string, ready bool, owner string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "d"}}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner, UID: types.UID(owner), Controller: &yes}}
	}
	return p
}

// scales answers for ReplicaSets named in replicas.
func scales(replicas map[string]int32) ScaleFunc {
	return func(ref *metav1.OwnerReference, _ string) (Scale, bool, error) {
		n, ok := replicas[ref.Name]
		return Scale{UID: ref.UID, Replicas: n}, ok, nil
	}
}

// TestCompute is the reconcile table of upstream's status rules.
func TestCompute(t *testing.T) {
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	i := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	s := func(x string) *intstr.IntOrString { v := intstr.FromString(x); return &v }
	three := []*corev1.Pod{pod("a", true, "rs"), pod("b", true, "rs"), pod("c", true, "rs")}
	deleting := pod("d", true, "rs")
	deleting.DeletionTimestamp = &metav1.Time{Time: now}
	for _, tc := range []struct {
		name                                string
		spec                                policyv1.PodDisruptionBudgetSpec
		pods                                []*corev1.Pod
		replicas                            map[string]int32
		disrupted                           map[string]metav1.Time
		healthy, desired, expected, allowed int32
		unmanaged                           int
		err                                 bool
	}{
		{name: "minAvailable int, bare pods", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: i(1)},
			pods: []*corev1.Pod{pod("a", true, ""), pod("b", true, ""), pod("c", false, "")}, healthy: 2, desired: 1, expected: 3, allowed: 1},
		{name: "minAvailable int, too few", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: i(3)},
			pods: three, replicas: map[string]int32{"rs": 3}, healthy: 3, desired: 3, expected: 3, allowed: 0},
		{name: "no pods", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: i(0)}, allowed: 0},
		{name: "minAvailable percent", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: s("50%")},
			pods: three, replicas: map[string]int32{"rs": 4}, healthy: 3, desired: 2, expected: 4, allowed: 1},
		{name: "maxUnavailable", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: i(1)},
			pods: three, replicas: map[string]int32{"rs": 3}, healthy: 3, desired: 2, expected: 3, allowed: 1},
		{name: "maxUnavailable percent rounds up", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: s("10%")},
			pods: three, replicas: map[string]int32{"rs": 3}, healthy: 3, desired: 2, expected: 3, allowed: 1},
		{name: "deleting and disrupted pods are not healthy", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: i(1)},
			pods: append(append([]*corev1.Pod{}, three...), deleting), disrupted: map[string]metav1.Time{"a": {Time: now.Add(-time.Minute)}},
			healthy: 2, desired: 1, expected: 4, allowed: 1},
		{name: "a timed-out disruption counts again", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: i(1)},
			pods: three, disrupted: map[string]metav1.Time{"a": {Time: now.Add(-3 * time.Minute)}}, healthy: 3, desired: 1, expected: 3, allowed: 2},
		{name: "unmanaged pods with a percentage", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: i(1)},
			pods: []*corev1.Pod{pod("a", true, "")}, unmanaged: 1, healthy: 1, allowed: 0},
		{name: "controller not found", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: i(1)},
			pods: three, replicas: map[string]int32{}, err: true},
	} {
		pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "d", Generation: 2}, Spec: tc.spec}
		pdb.Status.DisruptedPods = tc.disrupted
		res, err := Compute(pdb, tc.pods, scales(tc.replicas), now)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if tc.err {
			continue
		}
		st := res.Status
		if st.CurrentHealthy != tc.healthy || st.DesiredHealthy != tc.desired || st.ExpectedPods != tc.expected ||
			st.DisruptionsAllowed != tc.allowed || st.ObservedGeneration != 2 || len(res.Unmanaged) != tc.unmanaged {
			t.Errorf("%s: healthy %d desired %d expected %d allowed %d generation %d unmanaged %v", tc.name,
				st.CurrentHealthy, st.DesiredHealthy, st.ExpectedPods, st.DisruptionsAllowed, st.ObservedGeneration, res.Unmanaged)
		}
	}
}

// TestComputeDisruptedPods: entries of pods gone, being deleted or timed
// out are dropped; the earliest time-out of the rest is the recheck.
func TestComputeDisruptedPods(t *testing.T) {
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	deleting := pod("b", true, "")
	deleting.DeletionTimestamp = &metav1.Time{Time: now}
	pdb := &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &intstr.IntOrString{}}}
	pdb.Status.DisruptedPods = map[string]metav1.Time{
		"a": {Time: now.Add(-time.Minute)}, "b": {Time: now}, "c": {Time: now.Add(-5 * time.Minute)}, "gone": {Time: now},
	}
	res, err := Compute(pdb, []*corev1.Pod{pod("a", true, ""), deleting, pod("c", true, "")}, scales(nil), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Status.DisruptedPods) != 1 || res.Status.DisruptedPods["a"].Time.IsZero() {
		t.Fatalf("disruptedPods %v, want a only", res.Status.DisruptedPods)
	}
	if want := now.Add(time.Minute); res.Recheck == nil || !res.Recheck.Equal(want) {
		t.Fatalf("recheck %v, want %v", res.Recheck, want)
	}
	if _, err := Compute(pdb, nil, func(*metav1.OwnerReference, string) (Scale, bool, error) { return Scale{}, false, errors.New("x") }, now); err != nil {
		t.Fatal(err)
	}
}
