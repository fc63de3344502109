package proxy

import (
	"reflect"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Tracker keeps the changes to Services and EndpointSlices of one IP
// family between syncs, as kube-proxy's change trackers do: informer
// handlers record {previous, current} per Service, and the sync goroutine
// applies the pending changes to its maps, dropping changes that undo
// themselves. Handlers and Apply may run concurrently.
type Tracker struct {
	family   corev1.IPFamily
	nodeName string

	mu sync.Mutex
	// services holds the pending changes by Service: the ports before the
	// first change since the last Apply and the ports now.
	services map[types.NamespacedName]*serviceChange
	// slices holds every EndpointSlice of the family by Service and name;
	// dirty names the Services whose slices changed since the last Apply.
	slices   map[types.NamespacedName]map[string]*discoveryv1.EndpointSlice
	dirty    map[types.NamespacedName]bool
	triggers map[types.NamespacedName][]time.Time
	// epNames indexes the endpoint map's keys by Service; only Apply uses it.
	epNames map[types.NamespacedName][]ServicePortName
	// TriggerTime reads a slice's last-change-trigger-time, if any.
	triggerTime func(*discoveryv1.EndpointSlice) (time.Time, bool)
}

type serviceChange struct {
	previous, current []*ServicePort
}

// NewTracker returns a tracker for family on the node nodeName.
// triggerTime may be nil.
func NewTracker(family corev1.IPFamily, nodeName string, triggerTime func(*discoveryv1.EndpointSlice) (time.Time, bool)) *Tracker {
	return &Tracker{
		family:      family,
		nodeName:    nodeName,
		services:    map[types.NamespacedName]*serviceChange{},
		slices:      map[types.NamespacedName]map[string]*discoveryv1.EndpointSlice{},
		dirty:       map[types.NamespacedName]bool{},
		triggers:    map[types.NamespacedName][]time.Time{},
		epNames:     map[types.NamespacedName][]ServicePortName{},
		triggerTime: triggerTime,
	}
}

// ServiceUpdate records a Service change; prev is nil for an add, cur nil
// for a delete. It says whether a sync is needed.
func (t *Tracker) ServiceUpdate(prev, cur *corev1.Service) bool {
	svc := cur
	if svc == nil {
		svc = prev
	}
	if svc == nil {
		return false
	}
	nn := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	ch, ok := t.services[nn]
	if !ok {
		ch = &serviceChange{previous: t.portsOf(prev)}
		t.services[nn] = ch
	}
	ch.current = t.portsOf(cur)
	if reflect.DeepEqual(ch.previous, ch.current) {
		delete(t.services, nn)
	}
	return len(t.services) > 0
}

func (t *Tracker) portsOf(svc *corev1.Service) []*ServicePort {
	if svc == nil {
		return nil
	}
	return ServicePorts(svc, t.family)
}

// SliceUpdate records an EndpointSlice add, change or delete (removed).
// Slices of another family or without a service-name label are ignored.
// It says whether the slice concerns this tracker.
func (t *Tracker) SliceUpdate(s *discoveryv1.EndpointSlice, removed bool) bool {
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" || SliceFamily(s) != t.family {
		return false
	}
	nn := types.NamespacedName{Namespace: s.Namespace, Name: name}
	t.mu.Lock()
	defer t.mu.Unlock()
	byName := t.slices[nn]
	if removed {
		delete(byName, s.Name)
		if len(byName) == 0 {
			delete(t.slices, nn)
		}
	} else {
		if byName == nil {
			byName = map[string]*discoveryv1.EndpointSlice{}
			t.slices[nn] = byName
		}
		byName[s.Name] = s
		if t.triggerTime != nil {
			if at, ok := t.triggerTime(s); ok {
				t.triggers[nn] = append(t.triggers[nn], at)
			}
		}
	}
	t.dirty[nn] = true
	return true
}

// Pending counts the Services with pending service and endpoint changes.
func (t *Tracker) Pending() (services, endpoints int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.services), len(t.dirty)
}

// Changes is what one Apply changed.
type Changes struct {
	// Ports names the service ports whose Service or endpoints changed,
	// before or after.
	Ports map[ServicePortName]bool
	// Services and Endpoints count the Services with changes of each kind.
	Services, Endpoints int
	// Triggers are the last-change-trigger-times of the applied endpoint
	// changes, for the network programming latency.
	Triggers []time.Time
}

// Apply moves the pending changes into the maps and says what changed.
func (t *Tracker) Apply(services map[ServicePortName]*ServicePort, endpoints EndpointsMap) Changes {
	t.mu.Lock()
	svcChanges := t.services
	dirty := t.dirty
	sliceCopies := make(map[types.NamespacedName][]*discoveryv1.EndpointSlice, len(dirty))
	for nn := range dirty {
		for _, s := range t.slices[nn] {
			sliceCopies[nn] = append(sliceCopies[nn], s)
		}
	}
	ch := Changes{Ports: map[ServicePortName]bool{}, Services: len(svcChanges), Endpoints: len(dirty)}
	for _, ts := range t.triggers {
		ch.Triggers = append(ch.Triggers, ts...)
	}
	t.services = map[types.NamespacedName]*serviceChange{}
	t.dirty = map[types.NamespacedName]bool{}
	t.triggers = map[types.NamespacedName][]time.Time{}
	t.mu.Unlock()

	for _, c := range svcChanges {
		for _, sp := range c.previous {
			delete(services, sp.Name)
			ch.Ports[sp.Name] = true
		}
		for _, sp := range c.current {
			services[sp.Name] = sp
			ch.Ports[sp.Name] = true
		}
	}
	for nn := range dirty {
		t.applyEndpoints(nn, sliceCopies[nn], endpoints, ch.Ports)
	}
	return ch
}

// applyEndpoints replaces the endpoints of Service nn by those of its
// slices, marking every port touched in changed.
func (t *Tracker) applyEndpoints(nn types.NamespacedName, slices []*discoveryv1.EndpointSlice, endpoints EndpointsMap, changed map[ServicePortName]bool) {
	for _, name := range t.epNames[nn] {
		delete(endpoints, name)
		changed[name] = true
	}
	delete(t.epNames, nn)
	sort.Slice(slices, func(i, j int) bool { return slices[i].Name < slices[j].Name })
	for name, eps := range SliceEndpoints(nn, slices, t.nodeName) {
		endpoints[name] = eps
		changed[name] = true
		t.epNames[nn] = append(t.epNames[nn], name)
	}
}
