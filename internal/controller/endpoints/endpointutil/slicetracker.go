package endpointutil

import (
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// deletionExpected marks a slice the controller deleted itself.
const deletionExpected = -1

// SliceTracker remembers, per Service, the generation of every
// EndpointSlice the controller last wrote. It tells whether the informer
// cache has caught up with the controller's own writes (so a sync does not
// act on stale slices and create duplicates) and whether a slice event
// came from someone else (so the controller's own writes do not trigger
// syncs).
type SliceTracker struct {
	mu          sync.Mutex
	generations map[string]map[types.UID]int64
}

// NewSliceTracker returns an empty tracker.
func NewSliceTracker() *SliceTracker {
	return &SliceTracker{generations: map[string]map[types.UID]int64{}}
}

// ServiceKey is namespace/name of the Service a slice belongs to, from its
// kubernetes.io/service-name label ("" when unlabelled).
func ServiceKey(slice *discoveryv1.EndpointSlice) string {
	name := slice.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return ""
	}
	return slice.Namespace + "/" + name
}

// Has reports whether the slice is tracked.
func (t *SliceTracker) Has(slice *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.generations[ServiceKey(slice)][slice.UID]
	return ok
}

// ShouldSync reports whether a seen slice is news: untracked, or newer
// than what the controller wrote.
func (t *SliceTracker) ShouldSync(slice *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.generations[ServiceKey(slice)][slice.UID]
	return !ok || slice.Generation > g
}

// Stale reports whether the cached slices of a Service lag the
// controller's writes: one is older than written or expected deleted, or a
// written one is missing.
func (t *SliceTracker) Stale(serviceKey string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	gens := t.generations[serviceKey]
	if len(gens) == 0 {
		return false
	}
	seen := make(map[types.UID]bool, len(cached))
	for _, s := range cached {
		seen[s.UID] = true
		if g, ok := gens[s.UID]; ok && (g == deletionExpected || g > s.Generation) {
			return true
		}
	}
	for uid, g := range gens {
		if g != deletionExpected && !seen[uid] {
			return true
		}
	}
	return false
}

// Update records a slice as written.
func (t *SliceTracker) Update(slice *discoveryv1.EndpointSlice) {
	t.set(slice, slice.Generation)
}

// ExpectDeletion records that the controller deleted the slice.
func (t *SliceTracker) ExpectDeletion(slice *discoveryv1.EndpointSlice) {
	t.set(slice, deletionExpected)
}

func (t *SliceTracker) set(slice *discoveryv1.EndpointSlice, g int64) {
	key := ServiceKey(slice)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.generations[key] == nil {
		t.generations[key] = map[types.UID]int64{}
	}
	t.generations[key][slice.UID] = g
}

// HandleDeletion forgets a deleted slice and reports whether the
// controller expected the deletion (false: someone else deleted it).
func (t *SliceTracker) HandleDeletion(slice *discoveryv1.EndpointSlice) bool {
	key := ServiceKey(slice)
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.generations[key][slice.UID]
	delete(t.generations[key], slice.UID)
	return !ok || g == deletionExpected
}

// Forget drops everything tracked for a Service.
func (t *SliceTracker) Forget(serviceKey string) {
	t.mu.Lock()
	delete(t.generations, serviceKey)
	t.mu.Unlock()
}
