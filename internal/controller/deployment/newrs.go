package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// replicaSetsAndRevision splits d's ReplicaSets into the new one (created
// when create is set and it is missing) and the old ones, and brings the
// revision annotations of the new ReplicaSet and d up to date.
func (c *Controller) replicaSetsAndRevision(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	oldRSs := FindOldReplicaSets(d, rsList)
	revision := MaxRevision(oldRSs) + 1
	if existing := FindNewReplicaSet(d, rsList); existing != nil {
		newRS, err := c.syncExistingNewRS(ctx, d, existing, revision)
		return newRS, oldRSs, err
	}
	if !create {
		return nil, oldRSs, nil
	}
	newRS, err := c.createNewRS(ctx, d, oldRSs, revision)
	return newRS, oldRSs, err
}

// syncExistingNewRS updates the new ReplicaSet's annotations and
// minReadySeconds, then d's revision and Progressing condition.
func (c *Controller) syncExistingNewRS(ctx context.Context, d *appsv1.Deployment, existing *appsv1.ReplicaSet, revision int64) (*appsv1.ReplicaSet, error) {
	rs := existing.DeepCopy()
	if setNewRSAnnotations(d, rs, revision, true) || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		return c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{})
	}
	needsUpdate := setRevision(d, rs.Annotations[RevisionAnnotation])
	if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
		msg := fmt.Sprintf("Found new replica set %q", rs.Name)
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS, msg, c.cfg.Now()))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.writeStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// createNewRS creates the ReplicaSet of d's current template with the
// replicas a first step of the rollout allows.
func (c *Controller) createNewRS(ctx context.Context, d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet, revision int64) (*appsv1.ReplicaSet, error) {
	rs := newReplicaSet(d)
	n := newRSReplicas(d, append(append([]*appsv1.ReplicaSet(nil), oldRSs...), rs), rs)
	rs.Spec.Replicas = &n
	setNewRSAnnotations(d, rs, revision, false)
	created, err := c.cfg.Client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	existed := false
	switch {
	case apierrors.IsAlreadyExists(err):
		if created, err = c.collision(ctx, d, rs.Name); err != nil {
			return nil, err
		}
		existed = true
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		return nil, c.createFailed(ctx, d, rs.Name, err)
	}
	if !existed && n > 0 {
		c.cfg.Recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, n)
	}
	needsUpdate := setRevision(d, strconv.FormatInt(revision, 10))
	if !existed && hasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", created.Name)
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated, msg, c.cfg.Now()))
		needsUpdate = true
	}
	if needsUpdate {
		return created, c.writeStatus(ctx, d)
	}
	return created, nil
}

// collision handles a ReplicaSet name already taken: ours (a slow cache)
// is returned; anyone else's bumps collisionCount so the next sync hashes
// to another name.
func (c *Controller) collision(ctx context.Context, d *appsv1.Deployment, name string) (*appsv1.ReplicaSet, error) {
	rs, err := c.cfg.Client.AppsV1().ReplicaSets(d.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
		return rs, nil
	}
	count := int32(0)
	if d.Status.CollisionCount != nil {
		count = *d.Status.CollisionCount
	}
	count++
	d.Status.CollisionCount = &count
	if err := c.writeStatus(ctx, d); err != nil {
		return nil, err
	}
	c.log.Info("hash collision, bumping collisionCount", "deployment", d.Namespace+"/"+d.Name, "collisionCount", count)
	return nil, fmt.Errorf("replica set %s already exists and is not the deployment's", name)
}

// createFailed reports a failed creation in the Progressing condition and
// an event.
func (c *Controller) createFailed(ctx context.Context, d *appsv1.Deployment, name string, err error) error {
	msg := fmt.Sprintf("Failed to create new replica set %q: %v", name, err)
	if hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonRSCreateError, msg, c.cfg.Now()))
		_ = c.writeStatus(ctx, d)
	}
	c.cfg.Recorder.Event(d, corev1.EventTypeWarning, ReasonRSCreateError, msg)
	return err
}

// setRevision sets d's revision annotation; it says whether it changed.
func setRevision(d *appsv1.Deployment, revision string) bool {
	if d.Annotations[RevisionAnnotation] == revision {
		return false
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = revision
	return true
}
