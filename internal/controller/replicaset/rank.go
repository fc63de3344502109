package replicaset

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DeletionCostAnnotation ranks pods for scale-down: lower cost goes first.
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// PodsToDelete picks n of pods to delete, in upstream's order: unscheduled
// before scheduled, Pending before Unknown before Running, not ready before
// ready, lower deletion cost first, pods doubled up on a node with more
// related pods first, ready for less time first, more restarts first,
// newer first (times compared on a logarithmic scale, as upstream's
// LogarithmicScaleDown does). related are the pods of the owner's family
// (all ReplicaSets of one Deployment) used to count pods per node.
func PodsToDelete(pods, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	perNode := map[string]int{}
	for _, p := range related {
		if IsPodActive(p) {
			perNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		ranked[i] = rankedPod{pod: p, rank: perNode[p.Spec.NodeName]}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return deleteFirst(ranked[i], ranked[j], now) })
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = ranked[i].pod
	}
	return out
}

type rankedPod struct {
	pod  *corev1.Pod
	rank int
}

var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// deleteFirst says whether a should go before b.
func deleteFirst(a, b rankedPod, now time.Time) bool {
	pa, pb := a.pod, b.pod
	if (pa.Spec.NodeName == "") != (pb.Spec.NodeName == "") {
		return pa.Spec.NodeName == ""
	}
	if phaseOrder[pa.Status.Phase] != phaseOrder[pb.Status.Phase] {
		return phaseOrder[pa.Status.Phase] < phaseOrder[pb.Status.Phase]
	}
	readyA, readyB := IsPodReady(pa), IsPodReady(pb)
	if readyA != readyB {
		return !readyA
	}
	if ca, cb := deletionCost(pa), deletionCost(pb); ca != cb {
		return ca < cb
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	return deleteFirstByAge(pa, pb, readyA && readyB, now)
}

// deleteFirstByAge breaks ties by time ready, restarts and age.
func deleteFirstByAge(pa, pb *corev1.Pod, bothReady bool, now time.Time) bool {
	if bothReady {
		ta, tb := readySince(pa), readySince(pb)
		if !ta.Equal(tb) {
			return newerFirst(ta, tb, pa, pb, now)
		}
	}
	if ra, rb := maxRestarts(pa), maxRestarts(pb); ra != rb {
		return ra > rb
	}
	ta, tb := pa.CreationTimestamp.Time, pb.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return newerFirst(ta, tb, pa, pb, now)
	}
	return false
}

// newerFirst orders by log2 of age; a zero time counts as newest; equal
// buckets fall back to UIDs, as upstream does.
func newerFirst(ta, tb time.Time, pa, pb *corev1.Pod, now time.Time) bool {
	if ta.IsZero() || tb.IsZero() || now.IsZero() {
		return ta.IsZero() || (!tb.IsZero() && ta.After(tb))
	}
	if d := logRank(now.Sub(ta)) - logRank(now.Sub(tb)); d != 0 {
		return d < 0
	}
	return pa.UID < pb.UID
}

func logRank(d time.Duration) int {
	if d <= 0 {
		return -1
	}
	return int(math.Log2(float64(d)))
}

func readySince(p *corev1.Pod) time.Time {
	if c := podCondition(p, corev1.PodReady); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

func deletionCost(p *corev1.Pod) int64 {
	v, err := strconv.ParseInt(p.Annotations[DeletionCostAnnotation], 10, 32)
	if err != nil {
		return 0
	}
	return v
}

func maxRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n = max(n, s.RestartCount)
	}
	return n
}

// IsPodActive is a pod that counts toward replicas: not finished and not
// being deleted.
func IsPodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// IsPodReady says whether the pod's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := podCondition(p, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable says whether the pod has been ready for minReadySeconds.
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := podCondition(p, corev1.PodReady)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	since := c.LastTransitionTime
	return !since.IsZero() && since.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
