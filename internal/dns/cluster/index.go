package cluster

// index.go: the index DNS answers from. Informer handlers write it one
// object at a time (set/remove), Answer reads it from many goroutines; a
// RWMutex guards the maps, and the records they hold (services, merged
// endpoint lists) are replaced, never changed, so a reader may keep using
// them after unlocking.

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// index holds the trimmed API state, keyed for O(1) lookups.
type index struct {
	mu     sync.RWMutex
	now    func() time.Time
	serial uint32 // SOA serial: the Unix time of the last change

	namespaces map[string]struct{}
	services   map[nsName]*service
	clusterIPs map[netip.Addr]map[nsName]struct{} // cluster IP → Services

	sliceOwner  map[nsName]string                // slice → its Service's name
	svcSlices   map[nsName]map[string][]endpoint // Service → slice name → endpoints
	endpoints   map[nsName][]endpoint            // Service → merged endpoints
	endpointIPs map[netip.Addr][]endpRef         // endpoint IP → Services (almost always one)

	pods   map[nsName]pod
	podIPs map[netip.Addr]map[nsName]bool // pod IP → pods, true when running
}

// endpRef is what the reverse map keeps of an endpoint address: the
// Service with an endpoint there and that endpoint's label and readiness.
// The label is made when asked for (the dashed address costs memory).
type endpRef struct {
	owner    nsName
	hostname string
	ready    bool
}

// newIndex returns an empty index.
func newIndex() *index {
	x := &index{
		now:         time.Now,
		namespaces:  map[string]struct{}{},
		services:    map[nsName]*service{},
		clusterIPs:  map[netip.Addr]map[nsName]struct{}{},
		sliceOwner:  map[nsName]string{},
		svcSlices:   map[nsName]map[string][]endpoint{},
		endpoints:   map[nsName][]endpoint{},
		endpointIPs: map[netip.Addr][]endpRef{},
		pods:        map[nsName]pod{},
		podIPs:      map[netip.Addr]map[nsName]bool{},
	}
	x.serial = uint32(x.now().Unix())
	return x
}

// set adds or replaces an API object; other types are ignored.
func (x *index) set(obj any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch o := obj.(type) {
	case *corev1.Namespace:
		x.namespaces[o.Name] = struct{}{}
	case *corev1.Service:
		x.setService(nsName{o.Namespace, o.Name}, toService(o))
	case *discoveryv1.EndpointSlice:
		svc, eps := toSlice(o)
		x.setSlice(nsName{o.Namespace, o.Name}, svc, eps)
	case *corev1.Pod:
		x.setPod(nsName{o.Namespace, o.Name}, o)
	default:
		return
	}
	x.touch()
}

// remove deletes an API object, also one wrapped in a tombstone.
func (x *index) remove(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch o := obj.(type) {
	case *corev1.Namespace:
		delete(x.namespaces, o.Name)
	case *corev1.Service:
		x.deleteService(nsName{o.Namespace, o.Name})
	case *discoveryv1.EndpointSlice:
		x.setSlice(nsName{o.Namespace, o.Name}, "", nil)
	case *corev1.Pod:
		x.deletePod(nsName{o.Namespace, o.Name})
	default:
		return
	}
	x.touch()
}

// touch moves the SOA serial to now; the caller holds the lock.
func (x *index) touch() { x.serial = uint32(x.now().Unix()) }

// setService indexes s under key; the caller holds the lock.
func (x *index) setService(key nsName, s *service) {
	x.deleteService(key)
	x.services[key] = s
	for _, ip := range s.clusterIPs {
		addRef(x.clusterIPs, ip, key, struct{}{})
	}
}

// deleteService drops the Service key; the caller holds the lock.
func (x *index) deleteService(key nsName) {
	old := x.services[key]
	if old == nil {
		return
	}
	for _, ip := range old.clusterIPs {
		deleteRef(x.clusterIPs, ip, key)
	}
	delete(x.services, key)
}

// namespaceExists says the Namespace ns exists.
func (x *index) namespaceExists(ns string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.namespaces[ns]
	return ok
}

// service returns the Service key and its merged endpoints; nil when
// unknown. Both are immutable.
func (x *index) service(key nsName) (*service, []endpoint) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.services[key], x.endpoints[key]
}

// soaSerial returns the serial for the zone's SOA.
func (x *index) soaSerial() uint32 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.serial
}

// ptrNames returns the names ip reverses to in zone (a lowercase FQDN):
// the Services with that cluster IP, else one name per Service with a
// ready endpoint at ip, sorted.
func (x *index) ptrNames(ip netip.Addr, zone string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var names []string
	for key := range x.clusterIPs[ip] {
		names = append(names, serviceFQDN(key, zone))
	}
	if len(names) == 0 {
		names = x.endpointPTRs(ip, zone)
	}
	slices.Sort(names)
	return names
}

// endpointPTRs returns the names of the ready endpoints at ip of existing
// Services; the caller holds the lock.
func (x *index) endpointPTRs(ip netip.Addr, zone string) []string {
	var names []string
	for _, ref := range x.endpointIPs[ip] {
		s := x.services[ref.owner]
		if s == nil || s.kind == kindExternalName || !(ref.ready || s.publishNotReady) {
			continue
		}
		names = append(names, endpointLabel(ref.hostname, ip)+"."+serviceFQDN(ref.owner, zone))
	}
	return names
}

// stats counts the index's records.
func (x *index) stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := Stats{
		Namespaces:     len(x.namespaces),
		Services:       len(x.services),
		EndpointSlices: len(x.sliceOwner),
		Pods:           len(x.pods),
	}
	for _, eps := range x.endpoints {
		st.Endpoints += len(eps)
	}
	return st
}

// serviceFQDN returns <svc>.<ns>.svc.<zone>.
func serviceFQDN(key nsName, zone string) string {
	return key.name + "." + key.ns + ".svc." + zone
}

// addRef adds k with v to the set m[ip].
func addRef[K comparable, V any](m map[netip.Addr]map[K]V, ip netip.Addr, k K, v V) {
	set := m[ip]
	if set == nil {
		set = map[K]V{}
		m[ip] = set
	}
	set[k] = v
}

// deleteRef removes k from the set m[ip], and the set when empty.
func deleteRef[K comparable, V any](m map[netip.Addr]map[K]V, ip netip.Addr, k K) {
	set := m[ip]
	delete(set, k)
	if len(set) == 0 {
		delete(m, ip)
	}
}
