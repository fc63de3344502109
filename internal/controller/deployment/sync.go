package deployment

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// sync brings one Deployment's ReplicaSets and status in line.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	if reflect.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		return c.selectingAll(ctx, d)
	}
	rsList, err := c.claimReplicaSets(ctx, d)
	if err != nil {
		return fmt.Errorf("claim replica sets of %s: %w", key, err)
	}
	if err := c.dispatch(ctx, d, rsList); err != nil {
		return fmt.Errorf("sync deployment %s: %w", key, err)
	}
	return nil
}

// dispatch picks what this sync does: status only while deleting, scale
// while paused or when replicas changed, else roll out.
func (c *Controller) dispatch(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	if d.DeletionTimestamp != nil {
		newRS, oldRSs, err := c.replicaSetsAndRevision(ctx, d, rsList, false)
		if err != nil {
			return err
		}
		return c.syncStatus(ctx, d, append(oldRSs, newRS), newRS)
	}
	if err := c.checkPaused(ctx, d); err != nil {
		return err
	}
	newRS, oldRSs, err := c.replicaSetsAndRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if d.Spec.Paused || isScalingEvent(d, newRS, oldRSs) {
		return c.syncScale(ctx, d, newRS, oldRSs)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.rolloutRecreate(ctx, d, rsList, newRS, oldRSs)
	}
	return c.rolloutRolling(ctx, d, rsList)
}

// selectingAll refuses a Deployment whose empty selector would take every
// pod of the namespace, as upstream does.
func (c *Controller) selectingAll(ctx context.Context, d *appsv1.Deployment) error {
	c.cfg.Recorder.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
	if d.Status.ObservedGeneration >= d.Generation {
		return nil
	}
	d.Status.ObservedGeneration = d.Generation
	_, err := c.cfg.Client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err
}

// claimReplicaSets adopts matching orphan ReplicaSets, releases owned ones
// that stopped matching and returns the ones d owns.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	owner := replicaset.Owner{UID: d.UID, Namespace: d.Namespace, Deleting: d.DeletionTimestamp != nil}
	ref := *metav1.NewControllerRef(d, controllerKind)
	var owned []*appsv1.ReplicaSet
	var errs []error
	rechecked := false
	for _, rs := range all {
		claim := replicaset.DecideClaim(owner, rs, sel.Matches(labels.Set(rs.Labels)))
		if claim == replicaset.ClaimAdopt && !rechecked {
			if err := c.recheck(ctx, d); err != nil {
				return owned, err
			}
			rechecked = true
		}
		err := replicaset.ApplyClaim(ctx, claim, ref, rs, c.patchRS(d.Namespace))
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, err)
		case claim == replicaset.ClaimOwned || claim == replicaset.ClaimAdopt:
			owned = append(owned, rs)
		}
	}
	return owned, errors.Join(errs...)
}

func (c *Controller) patchRS(ns string) replicaset.PatchFunc {
	return func(ctx context.Context, name string, patch []byte) error {
		_, err := c.cfg.Client.AppsV1().ReplicaSets(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
}

// recheck reads d afresh before adopting.
func (c *Controller) recheck(ctx context.Context, d *appsv1.Deployment) error {
	fresh, err := c.cfg.Client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if fresh.UID != d.UID {
		return fmt.Errorf("original Deployment %s/%s is gone: got uid %s, wanted %s", d.Namespace, d.Name, fresh.UID, d.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", d.Namespace, d.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// checkPaused records pausing and resuming in the Progressing condition,
// so that time spent paused never counts against the progress deadline.
func (c *Controller) checkPaused(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == ReasonTimedOut {
		return nil
	}
	pausedCond := cond != nil && cond.Reason == ReasonPaused
	now := c.cfg.Now()
	switch {
	case d.Spec.Paused && !pausedCond:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", now))
	case !d.Spec.Paused && pausedCond:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed", now))
	default:
		return nil
	}
	return c.writeStatus(ctx, d)
}

// writeStatus stores d's status and keeps the stored copy in d.
func (c *Controller) writeStatus(ctx context.Context, d *appsv1.Deployment) error {
	updated, err := c.cfg.Client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	*d = *updated
	return nil
}
