package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
)

// planOldScaleDown is how a rolling update shrinks the old ReplicaSets:
// first their unhealthy (unavailable) replicas, then available ones while
// at least replicas-maxUnavailable pods stay available. oldRSs are the
// active old ReplicaSets.
func planOldScaleDown(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []scaleAction {
	if specReplicas(oldRSs) == 0 {
		return nil
	}
	minAvailable := replicas(d.Spec.Replicas) - MaxUnavailable(d)
	newUnavailable := replicas(newRS.Spec.Replicas) - newRS.Status.AvailableReplicas
	all := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	maxScaledDown := specReplicas(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return nil
	}
	olds := make([]*appsv1.ReplicaSet, len(oldRSs))
	sizes := map[*appsv1.ReplicaSet]int32{}
	for i, rs := range oldRSs {
		olds[i] = rs
		sizes[rs] = replicas(rs.Spec.Replicas)
	}
	sortByCreation(olds)
	cleaned := cleanupUnhealthy(olds, sizes, maxScaledDown)
	scaledDown := scaleDownAvailable(d, newRS, olds, sizes)
	if cleaned+scaledDown == 0 {
		return nil
	}
	var out []scaleAction
	for _, rs := range olds {
		if sizes[rs] != replicas(rs.Spec.Replicas) {
			out = append(out, scaleAction{rs, sizes[rs]})
		}
	}
	return out
}

// cleanupUnhealthy removes up to maxCleanup unavailable replicas from the
// old ReplicaSets, oldest first, recording new sizes in sizes.
func cleanupUnhealthy(olds []*appsv1.ReplicaSet, sizes map[*appsv1.ReplicaSet]int32, maxCleanup int32) int32 {
	var total int32
	for _, rs := range olds {
		if total >= maxCleanup {
			break
		}
		size := sizes[rs]
		if size == 0 || size == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxCleanup-total, size-rs.Status.AvailableReplicas)
		if n <= 0 {
			continue
		}
		sizes[rs] = size - n
		total += n
	}
	return total
}

// scaleDownAvailable removes available old replicas, oldest ReplicaSet
// first, as far as minimum availability allows.
func scaleDownAvailable(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, sizes map[*appsv1.ReplicaSet]int32) int32 {
	minAvailable := replicas(d.Spec.Replicas) - MaxUnavailable(d)
	available := newRS.Status.AvailableReplicas
	for _, rs := range olds {
		available += rs.Status.AvailableReplicas
	}
	if available <= minAvailable {
		return 0
	}
	want := available - minAvailable
	var total int32
	for _, rs := range olds {
		if total >= want {
			break
		}
		if sizes[rs] == 0 {
			continue
		}
		n := min(sizes[rs], want-total)
		sizes[rs] -= n
		total += n
	}
	return total
}

// planRecreateScaleDown sets every active old ReplicaSet to zero.
func planRecreateScaleDown(oldRSs []*appsv1.ReplicaSet) []scaleAction {
	var out []scaleAction
	for _, rs := range filterActive(oldRSs) {
		out = append(out, scaleAction{rs, 0})
	}
	return out
}
