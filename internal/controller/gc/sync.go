package gc

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// sync handles one object by UID: an owner in foreground or orphan
// deletion, or a dependent whose owners may be gone.
func (c *Controller) sync(ctx context.Context, key string) error {
	n := c.graph.Get(types.UID(key))
	switch {
	case n == nil:
		return nil
	case n.DeletingDependents():
		return c.processForeground(ctx, n)
	case n.Orphaning():
		return c.processOrphan(ctx, n)
	case n.Deleting || len(n.Owners) == 0:
		return nil
	}
	states, err := c.ownerStates(ctx, n)
	if err != nil {
		return fmt.Errorf("look up owners of %s %s/%s: %w", n.Resource.Kind, n.Namespace, n.Name, err)
	}
	return c.act(ctx, n, Decide(n, states, len(c.graph.Dependents(n.UID)) > 0))
}

// ownerStates finds each owner: an owner the graph holds alive is solid;
// anything else is read from the API, since only a live read may declare
// an owner gone.
func (c *Controller) ownerStates(ctx context.Context, n *Node) (map[types.UID]OwnerState, error) {
	states := map[types.UID]OwnerState{}
	for _, ref := range n.Owners {
		if o := c.graph.Get(ref.UID); o != nil && !o.Deleting {
			states[ref.UID] = OwnerSolid
			continue
		}
		s, err := c.liveOwner(ctx, n, ref)
		if err != nil {
			return nil, err
		}
		states[ref.UID] = s
	}
	return states, nil
}

func (c *Controller) liveOwner(ctx context.Context, n *Node, ref metav1.OwnerReference) (OwnerState, error) {
	r, err := c.ownerResource(n, ref.UID)
	if err != nil {
		c.log.Debug("owner kind unknown, keeping dependent", "dependent", n.Namespace+"/"+n.Name, "err", err)
		return OwnerSolid, nil
	}
	if r.Namespaced && !n.Resource.Namespaced {
		return OwnerDangling, nil
	}
	client := c.cfg.Dynamic.Resource(r.GVR)
	var obj metav1.Object
	if r.Namespaced {
		obj, err = client.Namespace(n.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	} else {
		obj, err = client.Get(ctx, ref.Name, metav1.GetOptions{})
	}
	switch {
	case apierrors.IsNotFound(err):
		return OwnerDangling, nil
	case err != nil:
		return OwnerSolid, err
	case obj.GetUID() != ref.UID:
		return OwnerDangling, nil
	case obj.GetDeletionTimestamp() != nil && slices.Contains(obj.GetFinalizers(), metav1.FinalizerDeleteDependents):
		return OwnerWaiting, nil
	}
	return OwnerSolid, nil
}

// act carries out a decision.
func (c *Controller) act(ctx context.Context, n *Node, a Action) error {
	switch a.Kind {
	case ActRemoveRefs:
		return c.patch(ctx, n, types.StrategicMergePatchType, removeRefsPatch(n.UID, a.UIDs))
	case ActDelete:
		if a.Unblock {
			if err := c.patch(ctx, n, types.StrategicMergePatchType, unblockPatch(n.UID, a.UIDs)); err != nil {
				return err
			}
		}
		return c.delete(ctx, n, a.Policy)
	}
	return nil
}

func (c *Controller) delete(ctx context.Context, n *Node, policy metav1.DeletionPropagation) error {
	uid := n.UID
	err := c.client(n).Delete(ctx, n.Name, metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		if err == nil {
			c.log.Info("deleted dependent", "kind", n.Resource.Kind, "object", n.Namespace+"/"+n.Name, "propagation", string(policy))
		}
		return nil
	}
	return fmt.Errorf("delete %s %s/%s: %w", n.Resource.Kind, n.Namespace, n.Name, err)
}

func (c *Controller) patch(ctx context.Context, n *Node, pt types.PatchType, data []byte) error {
	_, err := c.client(n).Patch(ctx, n.Name, pt, data, metav1.PatchOptions{})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("patch %s %s/%s: %w", n.Resource.Kind, n.Namespace, n.Name, err)
}

// processForeground lets an owner in foreground deletion go once no
// dependent blocks it, and meanwhile makes sure its dependents are being
// deleted.
func (c *Controller) processForeground(ctx context.Context, n *Node) error {
	if len(c.graph.Blocking(n.UID)) == 0 {
		return c.removeFinalizer(ctx, n, metav1.FinalizerDeleteDependents)
	}
	for _, d := range c.graph.Dependents(n.UID) {
		if !d.Deleting {
			c.runner.Enqueue(string(d.UID))
		}
	}
	return nil
}

// processOrphan drops every dependent's reference to an owner deleted
// with the Orphan policy, then lets the owner go.
func (c *Controller) processOrphan(ctx context.Context, n *Node) error {
	for _, d := range c.graph.Dependents(n.UID) {
		if err := c.patch(ctx, d, types.StrategicMergePatchType, removeRefsPatch(d.UID, []types.UID{n.UID})); err != nil {
			return err
		}
	}
	return c.removeFinalizer(ctx, n, metav1.FinalizerOrphanDependents)
}

// removeFinalizer drops one finalizer from the live object, guarded by
// its resource version.
func (c *Controller) removeFinalizer(ctx context.Context, n *Node, finalizer string) error {
	for attempt := 0; ; attempt++ {
		obj, err := c.client(n).Get(ctx, n.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if obj.GetUID() != n.UID || !slices.Contains(obj.GetFinalizers(), finalizer) {
			return nil
		}
		rest := slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return f == finalizer })
		err = c.patch(ctx, n, types.MergePatchType, finalizersPatch(rest, obj.GetResourceVersion()))
		if err == nil || !apierrors.IsConflict(err) || attempt == 2 {
			return err
		}
	}
}
