package statefulset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller/history"
	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// sync brings one StatefulSet's pods, revisions and status in line.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	set, err := c.sets.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		c.log.Warn("invalid selector", "statefulset", key, "err", err)
		return nil
	}
	pods, err := c.claimPods(ctx, set, sel)
	if err != nil {
		return fmt.Errorf("claim pods of %s: %w", key, err)
	}
	revs, templates, count, err := c.syncRevisions(ctx, set, sel, pods)
	if err != nil {
		return fmt.Errorf("revisions of %s: %w", key, err)
	}
	var actErr error
	if set.DeletionTimestamp == nil {
		actErr = c.act(ctx, set, Plan(set, pods, revs, c.cfg.Now()), templates)
	}
	status := CalculateStatus(set, pods, revs, c.cfg.Now())
	status.CollisionCount = count
	if err := c.writeStatus(ctx, set, status); err != nil {
		return err
	}
	return actErr
}

// claimPods adopts matching orphans, releases owned pods that stopped
// matching, and returns the pods set owns.
func (c *Controller) claimPods(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(set.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	owner := replicaset.Owner{UID: set.UID, Namespace: set.Namespace, Deleting: set.DeletionTimestamp != nil}
	ref := *metav1.NewControllerRef(set, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))
	patch := func(ctx context.Context, name string, p []byte) error {
		_, err := c.cfg.Client.CoreV1().Pods(set.Namespace).Patch(ctx, name, types.StrategicMergePatchType, p, metav1.PatchOptions{})
		return err
	}
	var owned []*corev1.Pod
	var errs []error
	for _, p := range all {
		matches := sel.Matches(labels.Set(p.Labels)) && Ordinal(set, p.Name) >= 0
		claim := replicaset.DecideClaim(owner, p, matches)
		err := replicaset.ApplyClaim(ctx, claim, ref, p, patch)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, err)
		case claim == replicaset.ClaimOwned || claim == replicaset.ClaimAdopt:
			owned = append(owned, p)
		}
	}
	return owned, errors.Join(errs...)
}

// act applies the plan: claims then pods, in the plan's order.
func (c *Controller) act(ctx context.Context, set *appsv1.StatefulSet, actions []Action, templates map[string]*corev1.PodTemplateSpec) error {
	var errs []error
	for _, a := range actions {
		if a.Delete != nil {
			errs = append(errs, c.deletePod(ctx, set, a.Delete))
			continue
		}
		errs = append(errs, c.createPod(ctx, set, a, templates[a.Revision]))
	}
	return errors.Join(errs...)
}

func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, a Action, tpl *corev1.PodTemplateSpec) error {
	if tpl == nil {
		tpl = &set.Spec.Template
	}
	pod := NewPod(set, tpl, a.Ordinal, a.Revision)
	if err := c.createClaims(ctx, set, pod, a.Ordinal); err != nil {
		c.cfg.Recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return err
	}
	_, err := c.cfg.Client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil
	case err != nil:
		c.cfg.Recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return err
	}
	c.cfg.Recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

// createClaims creates the pod's missing claims; an existing claim is
// reused, so a pod comes back to its own.
func (c *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	for i := range set.Spec.VolumeClaimTemplates {
		claim := NewClaim(set, &set.Spec.VolumeClaimTemplates[i], ordinal)
		_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Claim %s for Pod %s: %w", claim.Name, pod.Name, err)
		}
		if err == nil {
			c.cfg.Recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod.Name, set.Name)
		}
	}
	return nil
}

func (c *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		c.cfg.Recorder.Eventf(set, corev1.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return err
	}
	c.cfg.Recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

// syncRevisions finds or creates the update revision (the current
// template), reads the current one from the status, drops old revisions
// beyond the history limit, and returns the names, the templates by
// revision name and the collision count.
func (c *Controller) syncRevisions(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector, pods []*corev1.Pod) (Revisions, map[string]*corev1.PodTemplateSpec, *int32, error) {
	all, err := c.revisions.ControllerRevisions(set.Namespace).List(sel)
	if err != nil {
		return Revisions{}, nil, nil, err
	}
	owned := history.Owned(all, string(set.UID))
	data, err := history.TemplatePatch(&set.Spec.Template)
	if err != nil {
		return Revisions{}, nil, nil, err
	}
	w := history.Writer{Client: c.cfg.Client}
	update, count := history.FindEqual(owned, data), set.Status.CollisionCount
	top := history.MaxRevision(owned)
	switch {
	case update == nil:
		update, count, err = w.Create(ctx, revisionBuilder(set, data, top+1), count)
		if err == nil {
			owned = append(owned, update)
		}
	case update.Revision < top:
		update, err = w.Renumber(ctx, update, top+1)
	}
	if err != nil {
		return Revisions{}, nil, count, err
	}
	revs := Revisions{Current: update.Name, Update: update.Name}
	templates := map[string]*corev1.PodTemplateSpec{update.Name: &set.Spec.Template}
	for _, r := range owned {
		if r.Name == set.Status.CurrentRevision && r.Name != update.Name {
			if tpl, err := TemplateOf(r); err == nil {
				revs.Current, templates[r.Name] = r.Name, tpl
			}
		}
	}
	return revs, templates, count, w.Delete(ctx, history.ToDelete(owned, limit(set), inUse(revs, pods)))
}

func revisionBuilder(set *appsv1.StatefulSet, data []byte, revision int64) func(*int32) *appsv1.ControllerRevision {
	return func(count *int32) *appsv1.ControllerRevision {
		hash := history.Hash(data, count)
		lbls := labels.Merge(set.Spec.Template.Labels, labels.Set{history.HashLabel: hash})
		r := history.New(set, appsv1.SchemeGroupVersion.WithKind("StatefulSet"), data, lbls, revision)
		r.Name = history.Name(set.Name, hash)
		return r
	}
}

func inUse(revs Revisions, pods []*corev1.Pod) map[string]bool {
	keep := map[string]bool{revs.Current: true, revs.Update: true}
	for _, p := range pods {
		keep[p.Labels[RevisionLabel]] = true
	}
	return keep
}

func limit(set *appsv1.StatefulSet) int32 {
	if set.Spec.RevisionHistoryLimit == nil {
		return 10
	}
	return *set.Spec.RevisionHistoryLimit
}

func (c *Controller) writeStatus(ctx context.Context, set *appsv1.StatefulSet, status appsv1.StatefulSetStatus) error {
	if apiequality.Semantic.DeepEqual(set.Status, status) {
		return nil
	}
	cp := set.DeepCopy()
	cp.Status = status
	_, err := c.cfg.Client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}
