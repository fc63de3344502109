package replicaset

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// sync brings one ReplicaSet's pods and status in line.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	rs, err := c.kind.Get(ns, name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		c.log.Warn("invalid selector", "replicaset", key, "err", err)
		return nil
	}
	needsSync := c.exp.Satisfied(key)
	owned, err := c.claimPods(ctx, rs, selector)
	if err != nil {
		return fmt.Errorf("claim pods of %s: %w", key, err)
	}
	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, rs, owned, key)
	}
	if err := c.syncStatus(ctx, rs, owned, manageErr); err != nil {
		return err
	}
	return manageErr
}

// claimPods adopts matching orphans, releases owned pods that stopped
// matching, and returns the active pods rs owns.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(rs.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	owner := Owner{UID: rs.UID, Namespace: rs.Namespace, Deleting: rs.DeletionTimestamp != nil}
	ref, patch := *metav1.NewControllerRef(rs, c.kind.GVK()), c.patchPod(rs.Namespace)
	var owned []*corev1.Pod
	var errs []error
	rechecked := false
	for _, p := range all {
		if !IsPodActive(p) {
			continue
		}
		claim := DecideClaim(owner, p, sel.Matches(labels.Set(p.Labels)))
		if claim == ClaimAdopt && !rechecked {
			if err := c.recheckOwner(ctx, rs); err != nil {
				return owned, err
			}
			rechecked = true
		}
		err := ApplyClaim(ctx, claim, ref, p, patch)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, err)
		case claim == ClaimOwned || claim == ClaimAdopt:
			owned = append(owned, p)
		}
	}
	return owned, errors.Join(errs...)
}

func (c *Controller) patchPod(ns string) PatchFunc {
	return func(ctx context.Context, name string, patch []byte) error {
		_, err := c.cfg.Client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
}

// recheckOwner reads rs afresh before adopting: a ReplicaSet that was
// replaced or is being deleted must not take pods.
func (c *Controller) recheckOwner(ctx context.Context, rs *appsv1.ReplicaSet) error {
	fresh, err := c.kind.Fetch(ctx, rs.Namespace, rs.Name)
	if err != nil {
		return err
	}
	if fresh.UID != rs.UID {
		return fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s", c.kind.GVK().Kind, rs.Namespace, rs.Name, fresh.UID, rs.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", rs.Namespace, rs.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// syncStatus writes the status when it changed, and comes back when ready
// pods will turn available after minReadySeconds.
func (c *Controller) syncStatus(ctx context.Context, rs *appsv1.ReplicaSet, owned []*corev1.Pod, manageErr error) error {
	status := CalculateStatus(rs, owned, manageErr, c.cfg.Now())
	updated, err := c.updateStatus(ctx, rs, status)
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	want := replicasOf(rs)
	if m := rs.Spec.MinReadySeconds; manageErr == nil && m > 0 &&
		updated.Status.ReadyReplicas == want && updated.Status.AvailableReplicas != want {
		c.runner.EnqueueAfter(keyOf(rs), time.Duration(m)*time.Second)
	}
	return nil
}

// updateStatus writes status unless unchanged, retrying once on a
// conflict with a fresh copy.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, status appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if apiequality.Semantic.DeepEqual(rs.Status, status) {
		return rs, nil
	}
	cp := rs.DeepCopy()
	cp.Status = status
	for attempt := 0; ; attempt++ {
		updated, err := c.kind.UpdateStatus(ctx, cp)
		if err == nil || attempt == 1 || !apierrors.IsConflict(err) {
			return updated, err
		}
		if cp, err = c.kind.Fetch(ctx, rs.Namespace, rs.Name); err != nil {
			return nil, err
		}
		cp.Status = status
	}
}
