package endpointslice

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// sync brings the EndpointSlices of one Service (namespace/name key) in
// line.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // a malformed key never heals
	}
	existing, err := c.managedSlices(ns, name)
	if err != nil {
		return err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.triggers.Forget(ns, name)
		return c.deleteAll(ctx, key, existing)
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		return c.deleteAll(ctx, key, existing) // these get no slices from this controller
	}
	if c.tracker.Stale(key, existing) {
		return fmt.Errorf("endpointslices of %s: informer cache has not caught up with the last writes", key)
	}
	return c.syncSlices(ctx, key, svc, existing)
}

// syncSlices reconciles the slices of a Service that gets them and
// applies the plan, recording a Warning event on failure.
func (c *Controller) syncSlices(ctx context.Context, key string, svc *corev1.Service, existing []*discoveryv1.EndpointSlice) error {
	pods, err := endpointutil.PodsForService(c.podIndex, svc)
	if err != nil {
		return err
	}
	plan := Reconcile(Input{
		Service: svc, Pods: pods, Slices: existing, Nodes: c.nodesFor(pods),
		MaxEndpointsPerSlice: c.max, TriggerTime: c.triggers.Compute(svc, pods),
	})
	if len(plan.MissingNodes) > 0 {
		c.logger.Info("pods left out until their node exists", "service", key, "nodes", plan.MissingNodes)
		c.waitForNodes(key, plan.MissingNodes)
	}
	if err := c.apply(ctx, plan); err != nil {
		c.recorder.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices",
			"Error updating Endpoint Slices for Service %s/%s: %v", svc.Namespace, svc.Name, err)
		return fmt.Errorf("sync endpointslices of %s: %w", key, err)
	}
	return nil
}

// managedSlices lists the Service's slices this controller manages,
// leaving out those pending deletion.
func (c *Controller) managedSlices(ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	return endpointutil.SlicesFor(c.slices, ns, name, ManagedBy)
}

// deleteAll removes the slices of a Service that is gone or no longer
// gets slices from this controller (the garbage collector would remove
// those of a deleted Service too; doing it here does not wait for it).
func (c *Controller) deleteAll(ctx context.Context, key string, existing []*discoveryv1.EndpointSlice) error {
	err := c.apply(ctx, Plan{Delete: existing})
	c.tracker.Forget(key)
	return err
}

// apply makes the plan's writes.
func (c *Controller) apply(ctx context.Context, plan Plan) error {
	return endpointutil.ApplySlices(ctx, c.client, c.tracker, endpointutil.SliceWrites{
		Create: plan.Create, Update: plan.Update, Delete: plan.Delete,
	})
}
