package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// sync brings one Job's pods and status in line, or releases an orphan
// pod's finalizer.
func (c *Controller) sync(ctx context.Context, key string) error {
	if podKey, ok := isOrphanKey(key); ok {
		return c.releaseOrphan(ctx, podKey)
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	j, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if finishedJob(j) && j.Spec.TTLSecondsAfterFinished != nil {
		if done, err := c.expire(ctx, j); done || err != nil {
			return err
		}
	}
	pods, err := c.ownedPods(ctx, j)
	if err != nil {
		return err
	}
	d := Decide(j, pods, c.cfg.Now())
	if !c.exp.Satisfied(key) {
		d.Create, d.Delete = nil, nil
	}
	return c.apply(ctx, j, key, d)
}

// ownedPods adopts the orphans j's selector matches, releases the pods
// it owns that stopped matching, and returns the pods j controls.
func (c *Controller) ownedPods(ctx context.Context, j *batchv1.Job) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil {
		return nil, nil
	}
	all, err := c.pods.Pods(j.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	owner := replicaset.Owner{UID: j.UID, Namespace: j.Namespace, Deleting: j.DeletionTimestamp != nil}
	ref := *metav1.NewControllerRef(j, batchv1.SchemeGroupVersion.WithKind("Job"))
	patch := func(ctx context.Context, name string, p []byte) error {
		_, err := c.cfg.Client.CoreV1().Pods(j.Namespace).Patch(ctx, name, types.StrategicMergePatchType, p, metav1.PatchOptions{})
		return err
	}
	var out []*corev1.Pod
	var errs []error
	for _, p := range all {
		claim := replicaset.DecideClaim(owner, p, !sel.Empty() && sel.Matches(labels.Set(p.Labels)))
		err := replicaset.ApplyClaim(ctx, claim, ref, p, patch)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, err)
		case claim == replicaset.ClaimOwned || claim == replicaset.ClaimAdopt:
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

// apply writes the status holding the newly finished pods, releases
// their finalizers, counts them, then deletes and creates pods.
func (c *Controller) apply(ctx context.Context, j *batchv1.Job, key string, d Decision) error {
	wasFinished := finishedJob(j)
	j, err := c.writeStatus(ctx, j, d.Status)
	if err != nil {
		return err
	}
	released := c.release(ctx, d.Release)
	status := moveCounted(j.Status, released)
	if j, err = c.writeStatus(ctx, j, status); err != nil {
		return err
	}
	if !wasFinished {
		c.recordFinish(j, d.Status)
	}
	var errs []error
	for _, p := range d.Delete {
		if err := c.cfg.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	c.exp.ExpectCreations(key, len(d.Create))
	for _, idx := range d.Create {
		errs = append(errs, c.create(ctx, j, key, idx))
	}
	if d.RequeueAfter > 0 {
		c.runner.EnqueueAfter(key, d.RequeueAfter+100*time.Millisecond)
	}
	return errors.Join(errs...)
}

func (c *Controller) create(ctx context.Context, j *batchv1.Job, key string, idx int) error {
	created, err := c.cfg.Client.CoreV1().Pods(j.Namespace).Create(ctx, NewPod(j, idx), metav1.CreateOptions{})
	if err != nil {
		c.exp.CreationObserved(key)
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.cfg.Recorder.Eventf(j, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		}
		return err
	}
	c.cfg.Recorder.Eventf(j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

// release removes the tracking finalizer from pods, returning the UIDs
// of those released (or already gone).
func (c *Controller) release(ctx context.Context, pods []*corev1.Pod) map[types.UID]bool {
	out := map[types.UID]bool{}
	for _, p := range pods {
		if err := c.removeFinalizer(ctx, p); err == nil || apierrors.IsNotFound(err) {
			out[p.UID] = true
		} else {
			c.log.Warn("remove job tracking finalizer", "pod", p.Namespace+"/"+p.Name, "err", err)
		}
	}
	return out
}

func (c *Controller) removeFinalizer(ctx context.Context, p *corev1.Pod) error {
	var keep []string
	for _, f := range p.Finalizers {
		if f != TrackingFinalizer {
			keep = append(keep, f)
		}
	}
	patch := map[string]any{"metadata": map[string]any{"finalizers": keep, "resourceVersion": p.ResourceVersion}}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, data, metav1.PatchOptions{})
	return err
}

// releaseOrphan removes the finalizer of a pod whose Job is gone.
func (c *Controller) releaseOrphan(ctx context.Context, podKey string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(podKey)
	if err != nil {
		return nil
	}
	p, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && !hasFinalizer(p)) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.removeFinalizer(ctx, p); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// moveCounted moves released pods from uncountedTerminatedPods to the
// counters (Indexed Jobs count completed indexes).
func moveCounted(s batchv1.JobStatus, released map[types.UID]bool) batchv1.JobStatus {
	s = *s.DeepCopy()
	u := s.UncountedTerminatedPods
	if u == nil {
		return s
	}
	var succ, fail []types.UID
	for _, id := range u.Succeeded {
		if released[id] {
			s.Succeeded++
		} else {
			succ = append(succ, id)
		}
	}
	for _, id := range u.Failed {
		if released[id] {
			s.Failed++
		} else {
			fail = append(fail, id)
		}
	}
	u.Succeeded, u.Failed = succ, fail
	if s.CompletedIndexes != "" {
		s.Succeeded = int32(len(parseIndexes(s.CompletedIndexes)))
	}
	return s
}

// writeStatus writes status unless unchanged and returns the Job.
func (c *Controller) writeStatus(ctx context.Context, j *batchv1.Job, s batchv1.JobStatus) (*batchv1.Job, error) {
	if apiequality.Semantic.DeepEqual(j.Status, s) {
		return j, nil
	}
	cp := j.DeepCopy()
	cp.Status = s
	out, err := c.cfg.Client.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return j, fmt.Errorf("update status of job %s/%s: %w", j.Namespace, j.Name, err)
	}
	return out, nil
}

// recordFinish emits upstream's events when the Job just finished.
func (c *Controller) recordFinish(j *batchv1.Job, s batchv1.JobStatus) {
	if cond := condition(&s, batchv1.JobComplete); cond != nil {
		c.cfg.Recorder.Event(j, corev1.EventTypeNormal, "Completed", "Job completed")
	}
	if cond := condition(&s, batchv1.JobFailed); cond != nil {
		c.cfg.Recorder.Event(j, corev1.EventTypeWarning, cond.Reason, cond.Message)
	}
}

// expire deletes a finished Job whose TTL has passed (its pods go in
// the foreground), or comes back when it will; done says it was deleted.
func (c *Controller) expire(ctx context.Context, j *batchv1.Job) (bool, error) {
	var at time.Time
	for _, cond := range j.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
			at = cond.LastTransitionTime.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second)
		}
	}
	if wait := at.Sub(c.cfg.Now()); wait > 0 {
		c.runner.EnqueueAfter(j.Namespace+"/"+j.Name, wait+100*time.Millisecond)
		return false, nil
	}
	fg := metav1.DeletePropagationForeground
	err := c.cfg.Client.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{
		PropagationPolicy: &fg, Preconditions: &metav1.Preconditions{UID: &j.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return false, err
	}
	return true, nil
}
