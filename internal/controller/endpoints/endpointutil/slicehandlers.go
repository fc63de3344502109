package endpointutil

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// SliceHandlers are the EndpointSlice event handlers of a controller that
// writes the slices labelled managed-by ManagedBy: they queue the Service
// of a slice someone else wrote, changed or deleted, so that the
// controller puts it right, and let the controller's own writes pass.
type SliceHandlers struct {
	// ManagedBy is the controller's endpointslice.kubernetes.io/managed-by.
	ManagedBy string
	// Tracker knows the slices the controller wrote itself.
	Tracker *SliceTracker
	// Enqueue queues the Service a slice belongs to.
	Enqueue func(*discoveryv1.EndpointSlice)
}

// Funcs returns the handlers for an EndpointSlice informer.
func (h SliceHandlers) Funcs() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{AddFunc: h.onAdd, UpdateFunc: h.onUpdate, DeleteFunc: h.onDelete}
}

func (h SliceHandlers) managed(s *discoveryv1.EndpointSlice) bool {
	return s.Labels[discoveryv1.LabelManagedBy] == h.ManagedBy
}

// onAdd queues the Service of a managed slice the controller did not
// write (or has not seen written).
func (h SliceHandlers) onAdd(obj any) {
	if s, ok := obj.(*discoveryv1.EndpointSlice); ok && h.managed(s) && h.Tracker.ShouldSync(s) {
		h.Enqueue(s)
	}
}

// onUpdate queues the Service of a slice someone else changed, whose
// managed-by label moved to or from this controller, or whose
// service-name label changed (then both Services).
func (h SliceHandlers) onUpdate(old, cur any) {
	prev, ok1 := old.(*discoveryv1.EndpointSlice)
	s, ok2 := cur.(*discoveryv1.EndpointSlice)
	if !ok1 || !ok2 {
		return
	}
	if prev.Labels[discoveryv1.LabelServiceName] != s.Labels[discoveryv1.LabelServiceName] {
		h.Enqueue(prev)
		h.Enqueue(s)
		return
	}
	if h.managed(prev) != h.managed(s) || (h.managed(s) && h.Tracker.ShouldSync(s)) {
		h.Enqueue(s)
	}
}

// onDelete queues the Service of a managed slice deleted by someone else,
// so that it is written again.
func (h SliceHandlers) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if ok && h.managed(s) && h.Tracker.Has(s) && !h.Tracker.HandleDeletion(s) {
		h.Enqueue(s)
	}
}
