package mirroring

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// sync brings the mirrored slices of one Endpoints (namespace/name key) in
// line: mirrored while the Endpoints exists, may be mirrored, and its
// Service exists without a selector; deleted otherwise.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // a malformed key never heals
	}
	existing, err := c.mirroredSlices(ns, name)
	if err != nil {
		return err
	}
	ep, mirror, err := c.toMirror(ns, name)
	if err != nil {
		return err
	}
	if !mirror {
		err := c.apply(ctx, Plan{Delete: existing})
		c.tracker.Forget(key)
		return err
	}
	if c.tracker.Stale(key, existing) {
		return fmt.Errorf("mirrored endpointslices of %s: informer cache has not caught up with the last writes", key)
	}
	plan := Reconcile(Input{Endpoints: ep, Slices: existing, MaxEndpointsPerSubset: c.max})
	c.reportSkipped(ep, plan)
	if err := c.apply(ctx, plan); err != nil {
		c.recorder.Eventf(ep, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices",
			"Error updating mirrored Endpoint Slices for Endpoints %s/%s: %v", ns, name, err)
		return fmt.Errorf("mirror endpoints %s: %w", key, err)
	}
	return nil
}

// toMirror returns the Endpoints and whether it is to be mirrored.
func (c *Controller) toMirror(ns, name string) (*corev1.Endpoints, bool, error) {
	ep, err := c.endpoints.Endpoints(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return ep, shouldMirror(ep) && svc.Spec.Selector == nil, nil
}

// reportSkipped records Warning events for addresses left out.
func (c *Controller) reportSkipped(ep *corev1.Endpoints, plan Plan) {
	if plan.Invalid > 0 {
		c.recorder.Eventf(ep, corev1.EventTypeWarning, "InvalidIPAddress",
			"Skipped %d invalid IP addresses when mirroring to EndpointSlices", plan.Invalid)
	}
	if plan.Skipped > plan.Invalid {
		c.recorder.Eventf(ep, corev1.EventTypeWarning, "TooManyAddressesToMirror",
			"A max of %d addresses can be mirrored to EndpointSlices per Endpoints subset. %d addresses were skipped", c.max, plan.Skipped)
	}
}

func (c *Controller) mirroredSlices(ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	return endpointutil.SlicesFor(c.slices, ns, name, ManagedBy)
}

// apply makes the plan's writes.
func (c *Controller) apply(ctx context.Context, plan Plan) error {
	return endpointutil.ApplySlices(ctx, c.client, c.tracker, endpointutil.SliceWrites{
		Create: plan.Create, Update: plan.Update, Delete: plan.Delete,
	})
}
