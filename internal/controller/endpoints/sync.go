package endpoints

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// sync brings the Endpoints of one Service (namespace/name key) in line.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // a malformed key never heals
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return c.deleteEndpoints(ctx, ns, name)
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		return nil // these get no Endpoints from this controller
	}
	pods, err := endpointutil.PodsForService(c.pods, svc)
	if err != nil {
		return err
	}
	trigger := c.triggers.Compute(svc, pods)
	cur, err := c.endpoints.Endpoints(ns).Get(name)
	if apierrors.IsNotFound(err) {
		cur, err = nil, nil
	}
	if err != nil {
		return err
	}
	if c.stale.isStale(key, cur) {
		return fmt.Errorf("endpoints %s: informer cache has not caught up with the last write", key)
	}
	res := Reconcile(Input{Service: svc, Pods: pods, Current: cur, TriggerTime: trigger})
	return c.write(ctx, svc, cur, res)
}

// deleteEndpoints removes the Endpoints of a Service that is gone.
func (c *Controller) deleteEndpoints(ctx context.Context, ns, name string) error {
	c.triggers.Forget(ns, name)
	c.stale.forget(ns + "/" + name)
	err := c.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete endpoints %s/%s: %w", ns, name, err)
	}
	return nil
}

// write applies a reconcile result, recording a Warning event on failure.
func (c *Controller) write(ctx context.Context, svc *corev1.Service, cur *corev1.Endpoints, res Result) error {
	api := c.client.CoreV1().Endpoints(svc.Namespace)
	switch res.Op {
	case OpCreate:
		_, err := api.Create(ctx, res.Endpoints, metav1.CreateOptions{})
		switch {
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			return nil // creates keep failing while the namespace goes away
		case apierrors.IsAlreadyExists(err):
			return fmt.Errorf("create endpoints %s/%s: %w (retrying once the cache has it)", svc.Namespace, svc.Name, err)
		case err != nil:
			c.recorder.Eventf(res.Endpoints, corev1.EventTypeWarning, "FailedToCreateEndpoint",
				"Failed to create endpoint for service %s/%s: %v", svc.Namespace, svc.Name, err)
			return fmt.Errorf("create endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		c.stale.markCreated(svc.Namespace + "/" + svc.Name)
	case OpUpdate:
		updated, err := api.Update(ctx, res.Endpoints, metav1.UpdateOptions{})
		if err != nil {
			c.recorder.Eventf(res.Endpoints, corev1.EventTypeWarning, "FailedToUpdateEndpoint",
				"Failed to update endpoint %s/%s: %v", svc.Namespace, svc.Name, err)
			return fmt.Errorf("update endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		if updated.ResourceVersion != cur.ResourceVersion {
			c.stale.markReplaced(cur)
		}
	}
	return nil
}

// staleTracker tells whether the informer cache has caught up with the
// controller's own writes, so a sync does not act on old data: it
// remembers the resourceVersion each update replaced, and which Endpoints
// were created but not yet seen.
type staleTracker struct {
	mu       sync.Mutex
	replaced map[string]string
	created  map[string]bool
}

func newStaleTracker() *staleTracker {
	return &staleTracker{replaced: map[string]string{}, created: map[string]bool{}}
}

func (t *staleTracker) markReplaced(ep *corev1.Endpoints) {
	t.mu.Lock()
	t.replaced[ep.Namespace+"/"+ep.Name] = ep.ResourceVersion
	t.mu.Unlock()
}

func (t *staleTracker) markCreated(key string) {
	t.mu.Lock()
	t.created[key] = true
	t.mu.Unlock()
}

// seen clears the created mark once the cache shows (or has dropped) the
// object.
func (t *staleTracker) seen(key string) {
	t.mu.Lock()
	delete(t.created, key)
	t.mu.Unlock()
}

// isStale reports whether cached (nil when missing) predates a write.
func (t *staleTracker) isStale(key string, cached *corev1.Endpoints) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cached == nil {
		return t.created[key]
	}
	delete(t.created, key)
	return t.replaced[key] == cached.ResourceVersion
}

func (t *staleTracker) forget(key string) {
	t.mu.Lock()
	delete(t.replaced, key)
	delete(t.created, key)
	t.mu.Unlock()
}
