package deployment

import (
	"math"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
)

// scaleAction sets one ReplicaSet's replicas.
type scaleAction struct {
	rs *appsv1.ReplicaSet
	to int32
}

// isScalingEvent says whether the Deployment's replicas changed since its
// active ReplicaSets last recorded them.
func isScalingEvent(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) bool {
	want := replicas(d.Spec.Replicas)
	for _, rs := range filterActive(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)) {
		if desired, ok := desiredAnnotation(rs); ok && desired != want {
			return true
		}
	}
	return false
}

// planScale sizes the ReplicaSets after the Deployment's replicas changed:
// the only active one (or the newest) takes them all; a saturated new one
// leaves the old ones at zero; otherwise a rolling update spreads the
// change over the active ones in proportion to their sizes.
func planScale(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []scaleAction {
	want := replicas(d.Spec.Replicas)
	if rs := activeOrLatest(newRS, oldRSs); rs != nil {
		if replicas(rs.Spec.Replicas) == want {
			return nil
		}
		return []scaleAction{{rs, want}}
	}
	if isSaturated(d, newRS) {
		var out []scaleAction
		for _, rs := range filterActive(oldRSs) {
			out = append(out, scaleAction{rs, 0})
		}
		return out
	}
	if !isRolling(d) {
		return nil
	}
	return planProportional(d, filterActive(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)))
}

// activeOrLatest is the only active ReplicaSet, or the newest when none is
// active; nil when several are.
func activeOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	olds := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	sort.SliceStable(olds, func(i, j int) bool { return olderThan(olds[j], olds[i]) })
	active := filterActive(append(olds, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return olds[0]
	case 1:
		return active[0]
	}
	return nil
}

// isSaturated says whether the new ReplicaSet runs all desired replicas.
func isSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	want := replicas(d.Spec.Replicas)
	desired, ok := desiredAnnotation(rs)
	return ok && desired == want && replicas(rs.Spec.Replicas) == want && rs.Status.AvailableReplicas == want
}

// planProportional adds or removes the difference between the allowed
// size (replicas + maxSurge) and the current total across the active
// ReplicaSets, largest first, leftovers to the largest.
func planProportional(d *appsv1.Deployment, active []*appsv1.ReplicaSet) []scaleAction {
	want := replicas(d.Spec.Replicas)
	allowed := int32(0)
	if want > 0 {
		allowed = want + MaxSurge(d)
	}
	toAdd := allowed - specReplicas(active)
	sorted := append([]*appsv1.ReplicaSet(nil), active...)
	sortBySize(sorted, toAdd > 0)
	out := make([]scaleAction, len(sorted))
	added := int32(0)
	for i, rs := range sorted {
		out[i] = scaleAction{rs, replicas(rs.Spec.Replicas)}
		if toAdd != 0 {
			p := proportion(rs, d, toAdd, added)
			out[i].to += p
			added += p
		}
	}
	if toAdd != 0 && len(out) > 0 {
		out[0].to = max(out[0].to+toAdd-added, 0)
	}
	return out
}

// sortBySize orders largest first; on equal sizes newer first when
// scaling up and older first when scaling down.
func sortBySize(rss []*appsv1.ReplicaSet, up bool) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := replicas(rss[i].Spec.Replicas), replicas(rss[j].Spec.Replicas)
		if a != b {
			return a > b
		}
		if up {
			return olderThan(rss[j], rss[i])
		}
		return olderThan(rss[i], rss[j])
	})
}

// proportion is rs's share of toAdd, within what is still allowed.
func proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if replicas(rs.Spec.Replicas) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f, allowed := fraction(rs, d), toAdd-added
	if toAdd > 0 {
		return min(f, allowed)
	}
	return max(f, allowed)
}

// fraction is how much rs grows (or shrinks) if it keeps its share of the
// size recorded in its max-replicas annotation.
func fraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	cur := replicas(rs.Spec.Replicas)
	want := replicas(d.Spec.Replicas)
	if want == 0 {
		return -cur
	}
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok {
		annotated = d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(cur*(want+MaxSurge(d))) / float64(annotated)
	return int32(math.Round(size)) - cur
}

// planNewRS is the new ReplicaSet's next size in a rolling update: scale
// down to replicas if over, else up as far as maxSurge allows.
func planNewRS(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (int32, bool) {
	want, cur := replicas(d.Spec.Replicas), replicas(newRS.Spec.Replicas)
	if cur > want {
		return want, true
	}
	n := newRSReplicas(d, allRSs, newRS)
	return n, n != cur
}

// newRSReplicas is how many replicas the new ReplicaSet may have now:
// everything for Recreate; for a rolling update, up to replicas+maxSurge
// pods in total, never over replicas.
func newRSReplicas(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	want, cur := replicas(d.Spec.Replicas), replicas(newRS.Spec.Replicas)
	if !isRolling(d) {
		return want
	}
	total := specReplicas(allRSs)
	maxTotal := want + MaxSurge(d)
	if total >= maxTotal {
		return cur
	}
	return cur + min(maxTotal-total, want-cur)
}
