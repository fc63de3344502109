package disruption

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DeletionTimeout is how long a pod the eviction API let go stays in
// status.disruptedPods (not counted healthy) waiting for its deletion to
// be seen, as upstream's.
const DeletionTimeout = 2 * time.Minute

// Scale is a pod controller's UID and desired replicas.
type Scale struct {
	UID      types.UID
	Replicas int32
}

// ScaleFunc finds the controller a pod's controllerRef names in the
// namespace: found false when no known controller of that name and UID
// exists.
type ScaleFunc func(ref *metav1.OwnerReference, namespace string) (s Scale, found bool, err error)

// Result is a budget's computed status and what to tell about it.
type Result struct {
	Status policyv1.PodDisruptionBudgetStatus
	// Unmanaged are the selected pods without a controller, when the
	// budget needs their controllers' scale.
	Unmanaged []string
	// Recheck, when set, is when a pod of disruptedPods times out.
	Recheck *time.Time
}

// Compute is upstream's trySync without the write: the expected pods
// (the pods selected for an integer minAvailable, else the sum of their
// controllers' replicas), the healthy ones (ready, not being deleted, not
// just evicted), the desired healthy and the disruptions allowed.
func Compute(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, scale ScaleFunc, now time.Time) (Result, error) {
	expected, desired, unmanaged, err := expectedCount(pdb, pods, scale)
	if err != nil {
		return Result{}, err
	}
	disrupted, recheck := disruptedPods(pdb, pods, now)
	healthy := countHealthy(pods, disrupted, now)
	allowed := healthy - desired
	if expected <= 0 || allowed <= 0 {
		allowed = 0
	}
	return Result{
		Status: policyv1.PodDisruptionBudgetStatus{
			CurrentHealthy: healthy, DesiredHealthy: desired, ExpectedPods: expected, DisruptionsAllowed: allowed,
			DisruptedPods: disrupted, ObservedGeneration: pdb.Generation, Conditions: pdb.Status.Conditions,
		},
		Unmanaged: unmanaged, Recheck: recheck,
	}, nil
}

func expectedCount(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, scale ScaleFunc) (expected, desired int32, unmanaged []string, err error) {
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		expected, unmanaged, err = expectedScale(pods, scale)
		if err != nil {
			return 0, 0, nil, err
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, 0, nil, err
		}
		return expected, max(expected-int32(n), 0), unmanaged, nil
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int:
		return int32(len(pods)), pdb.Spec.MinAvailable.IntVal, nil, nil
	case pdb.Spec.MinAvailable != nil:
		expected, unmanaged, err = expectedScale(pods, scale)
		if err != nil {
			return 0, 0, nil, err
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, 0, nil, err
		}
		return expected, int32(n), unmanaged, nil
	}
	return 0, 0, nil, nil
}

// expectedScale sums the replicas of the pods' controllers, each once.
func expectedScale(pods []*corev1.Pod, scale ScaleFunc) (int32, []string, error) {
	seen := map[types.UID]int32{}
	var unmanaged []string
	for _, pod := range pods {
		ref := metav1.GetControllerOf(pod)
		if ref == nil {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		if _, ok := seen[ref.UID]; ok {
			continue
		}
		s, found, err := scale(ref, pod.Namespace)
		if err != nil {
			return 0, nil, err
		}
		if !found {
			return 0, nil, fmt.Errorf("found no controllers for pod %q", pod.Name)
		}
		seen[s.UID] = s.Replicas
	}
	var sum int32
	for _, n := range seen {
		sum += n
	}
	return sum, unmanaged, nil
}

// disruptedPods keeps the entries of status.disruptedPods whose pod
// exists, is not being deleted and has not timed out.
func disruptedPods(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, now time.Time) (map[string]metav1.Time, *time.Time) {
	out := map[string]metav1.Time{}
	var recheck *time.Time
	if pdb.Status.DisruptedPods == nil {
		return out, nil
	}
	for _, pod := range pods {
		at, ok := pdb.Status.DisruptedPods[pod.Name]
		if !ok || pod.DeletionTimestamp != nil {
			continue
		}
		due := at.Add(DeletionTimeout)
		if due.Before(now) {
			continue
		}
		if recheck == nil || due.Before(*recheck) {
			recheck = &due
		}
		out[pod.Name] = at
	}
	return out, recheck
}

func countHealthy(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) int32 {
	var n int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if at, ok := disrupted[pod.Name]; ok && at.Add(DeletionTimeout).After(now) {
			continue
		}
		if podReady(pod) {
			n++
		}
	}
	return n
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
