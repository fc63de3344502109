package daemonset

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

	"github.com/svcplane/svcplane/internal/controller/deployment"
	"github.com/svcplane/svcplane/internal/controller/history"
	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// sync brings one DaemonSet's pods, revisions and status in line.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ds, err := c.dsets.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		c.log.Warn("invalid selector", "daemonset", key, "err", err)
		return nil
	}
	pods, err := c.claimPods(ctx, ds, sel)
	if err != nil {
		return fmt.Errorf("claim pods of %s: %w", key, err)
	}
	nodes, err := c.nodeStates(ds, pods)
	if err != nil {
		return err
	}
	if ds.DeletionTimestamp != nil {
		return c.writeStatus(ctx, ds, nodes, deployment.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount), ds.Status.CollisionCount)
	}
	hash, count, err := c.syncRevisions(ctx, ds, sel, pods)
	if err != nil {
		return fmt.Errorf("revisions of %s: %w", key, err)
	}
	var actErr error
	if c.exp.Satisfied(key) {
		actErr = c.act(ctx, ds, key, Plan(ds, nodes, hash, c.cfg.Now()), hash)
	}
	if err := c.writeStatus(ctx, ds, nodes, hash, count); err != nil {
		return err
	}
	return actErr
}

// claimPods adopts matching orphans, releases owned pods that stopped
// matching, and returns the pods ds owns.
func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	owner := replicaset.Owner{UID: ds.UID, Namespace: ds.Namespace, Deleting: ds.DeletionTimestamp != nil}
	ref := *metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))
	patch := func(ctx context.Context, name string, p []byte) error {
		_, err := c.cfg.Client.CoreV1().Pods(ds.Namespace).Patch(ctx, name, types.StrategicMergePatchType, p, metav1.PatchOptions{})
		return err
	}
	var owned []*corev1.Pod
	var errs []error
	for _, p := range all {
		claim := replicaset.DecideClaim(owner, p, sel.Matches(labels.Set(p.Labels)))
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

// nodeStates pairs every node with its eligibility and ds's pods there;
// pods on nodes that are gone are listed under their node's name.
func (c *Controller) nodeStates(ds *appsv1.DaemonSet, pods []*corev1.Pod) ([]NodeState, error) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if n := PodNode(p); n != "" {
			byNode[n] = append(byNode[n], p)
		}
	}
	out := make([]NodeState, 0, len(nodes))
	for _, n := range nodes {
		run, keep := NodeShouldRun(ds, n)
		out = append(out, NodeState{Name: n.Name, Run: run, Keep: keep, Pods: byNode[n.Name]})
		delete(byNode, n.Name)
	}
	for name, ps := range byNode {
		out = append(out, NodeState{Name: name, Pods: ps})
	}
	return out, nil
}

// act creates and deletes pods, with expectations so that the next sync
// waits for the informer to see them.
func (c *Controller) act(ctx context.Context, ds *appsv1.DaemonSet, key string, a Actions, hash string) error {
	if a.Empty() {
		return nil
	}
	var errs []error
	if len(a.Delete) > 0 {
		keys := make([]string, len(a.Delete))
		for i, p := range a.Delete {
			keys[i] = p.Namespace + "/" + p.Name
		}
		c.exp.ExpectDeletions(key, keys)
		for _, p := range a.Delete {
			errs = append(errs, c.deleteOne(ctx, ds, key, p))
		}
		return errors.Join(errs...)
	}
	c.exp.ExpectCreations(key, len(a.Create))
	for _, node := range a.Create {
		if err := c.createOne(ctx, ds, node, hash); err != nil {
			c.exp.CreationObserved(key)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) createOne(ctx context.Context, ds *appsv1.DaemonSet, node, hash string) error {
	created, err := c.cfg.Client.CoreV1().Pods(ds.Namespace).Create(ctx, NewPod(ds, node, hash), metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.cfg.Recorder.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		}
		return err
	}
	c.cfg.Recorder.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

func (c *Controller) deleteOne(ctx context.Context, ds *appsv1.DaemonSet, key string, p *corev1.Pod) error {
	err := c.cfg.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
	switch {
	case err == nil:
		c.cfg.Recorder.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
		return nil
	case apierrors.IsNotFound(err):
		c.exp.DeletionObserved(key, p.Namespace+"/"+p.Name)
		return nil
	}
	c.exp.DeletionObserved(key, p.Namespace+"/"+p.Name)
	c.cfg.Recorder.Eventf(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
	return err
}

// syncRevisions makes the current template the newest revision (reusing
// an equal old one, as after rollout undo), drops old revisions beyond
// the history limit that no pod uses, and returns the current hash and
// the collision count.
func (c *Controller) syncRevisions(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector, pods []*corev1.Pod) (string, *int32, error) {
	all, err := c.revisions.ControllerRevisions(ds.Namespace).List(sel)
	if err != nil {
		return "", nil, err
	}
	owned := history.Owned(all, string(ds.UID))
	data, err := history.TemplatePatch(&ds.Spec.Template)
	if err != nil {
		return "", nil, err
	}
	w := history.Writer{Client: c.cfg.Client}
	cur, count := history.FindEqual(owned, data), ds.Status.CollisionCount
	top := history.MaxRevision(owned)
	switch {
	case cur == nil:
		cur, count, err = w.Create(ctx, c.revisionBuilder(ds, data, top+1), count)
	case cur.Revision < top:
		cur, err = w.Renumber(ctx, cur, top+1)
	}
	if err != nil {
		return "", count, err
	}
	hash := cur.Labels[RevisionHashLabel]
	return hash, count, w.Delete(ctx, history.ToDelete(owned, limit(ds), inUse(owned, cur, pods)))
}

func (c *Controller) revisionBuilder(ds *appsv1.DaemonSet, data []byte, revision int64) func(*int32) *appsv1.ControllerRevision {
	return func(count *int32) *appsv1.ControllerRevision {
		hash := deployment.ComputeHash(&ds.Spec.Template, count)
		lbls := labels.Merge(ds.Spec.Template.Labels, labels.Set{RevisionHashLabel: hash})
		r := history.New(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"), data, lbls, revision)
		r.Name = history.Name(ds.Name, hash)
		r.Annotations = labels.Merge(nil, ds.Annotations)
		return r
	}
}

// inUse names the current revision and those a pod still runs.
func inUse(owned []*appsv1.ControllerRevision, cur *appsv1.ControllerRevision, pods []*corev1.Pod) map[string]bool {
	hashes := map[string]bool{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			hashes[p.Labels[RevisionHashLabel]] = true
		}
	}
	keep := map[string]bool{cur.Name: true}
	for _, r := range owned {
		if hashes[r.Labels[RevisionHashLabel]] {
			keep[r.Name] = true
		}
	}
	return keep
}

func limit(ds *appsv1.DaemonSet) int32 {
	if ds.Spec.RevisionHistoryLimit == nil {
		return 10
	}
	return *ds.Spec.RevisionHistoryLimit
}

// writeStatus writes the status when it changed, and comes back when
// ready pods will turn available after minReadySeconds.
func (c *Controller) writeStatus(ctx context.Context, ds *appsv1.DaemonSet, nodes []NodeState, hash string, count *int32) error {
	status := CalculateStatus(ds, nodes, hash, c.cfg.Now())
	status.CollisionCount = count
	if m := ds.Spec.MinReadySeconds; m > 0 && status.NumberReady != status.NumberAvailable {
		c.runner.EnqueueAfter(keyOf(ds), time.Duration(m)*time.Second)
	}
	if apiequality.Semantic.DeepEqual(ds.Status, status) {
		return nil
	}
	cp := ds.DeepCopy()
	cp.Status = status
	_, err := c.cfg.Client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return nil
}
