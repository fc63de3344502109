package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// rolloutRolling takes one step of a rolling update: grow the new
// ReplicaSet within maxSurge, else shrink old ones within maxUnavailable,
// else (complete) trim history; then report.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.replicaSetsAndRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	if to, ok := planNewRS(d, all, newRS); ok {
		all, scaled, err := c.apply(ctx, d, all, []scaleAction{{newRS, to}})
		if err != nil {
			return err
		}
		if scaled {
			return c.syncRolloutStatus(ctx, d, all, pick(all, newRS))
		}
	}
	if actions := planOldScaleDown(d, newRS, filterActive(oldRSs)); len(actions) > 0 {
		all, _, err := c.apply(ctx, d, all, actions)
		if err != nil {
			return err
		}
		return c.syncRolloutStatus(ctx, d, all, newRS)
	}
	if complete(d, &d.Status) {
		c.cleanup(ctx, d, oldRSs)
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// rolloutRecreate scales every old ReplicaSet to zero, waits for their
// pods to go, then creates and scales up the new one.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) error {
	all := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	if actions := planRecreateScaleDown(oldRSs); len(actions) > 0 {
		all, _, err := c.apply(ctx, d, all, actions)
		if err != nil {
			return err
		}
		return c.syncRolloutStatus(ctx, d, all, newRS)
	}
	if c.oldPodsRunning(d, newRS, rsList, oldRSs) {
		return c.syncRolloutStatus(ctx, d, all, newRS)
	}
	if newRS == nil {
		var err error
		if newRS, oldRSs, err = c.replicaSetsAndRevision(ctx, d, rsList, true); err != nil {
			return err
		}
		all = append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	}
	if want := replicas(d.Spec.Replicas); replicas(newRS.Spec.Replicas) != want {
		var err error
		if all, _, err = c.apply(ctx, d, all, []scaleAction{{newRS, want}}); err != nil {
			return err
		}
		newRS = pick(all, newRS)
	}
	if complete(d, &d.Status) {
		c.cleanup(ctx, d, oldRSs)
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// oldPodsRunning says whether pods of old ReplicaSets still run.
func (c *Controller) oldPodsRunning(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, rsList, oldRSs []*appsv1.ReplicaSet) bool {
	if countStatus(oldRSs).replicas > 0 {
		return true
	}
	old := map[types.UID]bool{}
	for _, rs := range rsList {
		if newRS == nil || rs.UID != newRS.UID {
			old[rs.UID] = true
		}
	}
	pods, _ := c.pods.Pods(d.Namespace).List(labels.Everything())
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref != nil && old[ref.UID] && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return true
		}
	}
	return false
}

// syncScale resizes the ReplicaSets for a changed replica count (or while
// paused) and reports.
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) error {
	all := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	all, _, err := c.apply(ctx, d, all, planScale(d, newRS, oldRSs))
	if err != nil {
		return err
	}
	if d.Spec.Paused {
		c.cleanup(ctx, d, oldRSs)
	}
	return c.syncStatus(ctx, d, all, pick(all, newRS))
}

// apply carries out scale actions, returning all with the updated
// ReplicaSets and whether any size changed.
func (c *Controller) apply(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, actions []scaleAction) ([]*appsv1.ReplicaSet, bool, error) {
	out := append([]*appsv1.ReplicaSet(nil), all...)
	scaled := false
	for _, a := range actions {
		changed, updated, err := c.scaleRS(ctx, d, a.rs, a.to)
		if err != nil {
			return out, scaled, err
		}
		scaled = scaled || changed
		for i := range out {
			if out[i] != nil && out[i].UID == updated.UID {
				out[i] = updated
			}
		}
	}
	return out, scaled, nil
}

// scaleRS sets rs's replicas and replica annotations, with an event when
// the size changes.
func (c *Controller) scaleRS(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, to int32) (bool, *appsv1.ReplicaSet, error) {
	from, want := replicas(rs.Spec.Replicas), replicas(d.Spec.Replicas)
	maxReplicas := want + MaxSurge(d)
	if from == to && !replicasAnnotationsNeedUpdate(rs, want, maxReplicas) {
		return false, rs, nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Replicas = &to
	setReplicasAnnotations(cp, want, maxReplicas)
	updated, err := c.cfg.Client.AppsV1().ReplicaSets(cp.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return false, rs, err
	}
	if from != to {
		op := "up"
		if to < from {
			op = "down"
		}
		c.cfg.Recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.Name, from, to)
	}
	return from != to, updated, nil
}

// cleanup deletes old ReplicaSets past revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) {
	for _, rs := range historyToDelete(d, oldRSs) {
		err := c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			c.log.Warn("delete old replica set", "replicaset", rs.Namespace+"/"+rs.Name, "err", err)
		}
	}
}

// syncStatus writes the status computed from the ReplicaSets.
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	status := calculateStatus(d, all, newRS, c.cfg.Now())
	if apiequality.Semantic.DeepEqual(d.Status, status) {
		return nil
	}
	d.Status = status
	return c.writeStatus(ctx, d)
}

// syncRolloutStatus writes the status with the rollout's conditions and
// comes back when a stuck rollout would time out.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	now := c.cfg.Now()
	status, requeue := rolloutStatus(d, calculateStatus(d, all, newRS, now), newRS, now)
	if f := replicaFailure(all, newRS); f != nil {
		setCondition(&status, *f)
	} else {
		removeCondition(&status, appsv1.DeploymentReplicaFailure)
	}
	if apiequality.Semantic.DeepEqual(d.Status, status) {
		if requeue > 0 {
			c.runner.EnqueueAfter(d.Namespace+"/"+d.Name, requeue)
		}
		return nil
	}
	d.Status = status
	return c.writeStatus(ctx, d)
}

// pick returns the element of all that is rs, updated.
func pick(all []*appsv1.ReplicaSet, rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if rs == nil {
		return nil
	}
	for _, x := range all {
		if x != nil && x.UID == rs.UID {
			return x
		}
	}
	return rs
}
