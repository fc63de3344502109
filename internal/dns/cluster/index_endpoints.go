package cluster

// index_endpoints.go: EndpointSlices in the index. Slices are joined to
// their Service by the label kubernetes.io/service-name only; a change to
// one slice re-merges the endpoints of that one Service (never the whole
// index) and updates the reverse map of endpoint IPs.

import (
	"slices"
)

// setSlice indexes the endpoints of slice key as belonging to Service svc
// in the slice's namespace; svc "" drops the slice. The caller holds the
// lock.
func (x *index) setSlice(key nsName, svc string, eps []endpoint) {
	old, had := x.sliceOwner[key]
	if had && old != svc {
		x.dropSlice(key, old)
	}
	if svc == "" {
		return
	}
	owner := nsName{key.ns, svc}
	bySlice := x.svcSlices[owner]
	if bySlice == nil {
		bySlice = map[string][]endpoint{}
		x.svcSlices[owner] = bySlice
	}
	bySlice[key.name] = eps
	x.sliceOwner[key] = svc
	x.merge(owner)
}

// dropSlice removes slice key from Service svc; the caller holds the lock.
func (x *index) dropSlice(key nsName, svc string) {
	owner := nsName{key.ns, svc}
	delete(x.svcSlices[owner], key.name)
	if len(x.svcSlices[owner]) == 0 {
		delete(x.svcSlices, owner)
	}
	delete(x.sliceOwner, key)
	x.merge(owner)
}

// merge rebuilds the merged endpoints of Service owner from its slices,
// in slice-name order, and its entries in the reverse map. The caller
// holds the lock.
func (x *index) merge(owner nsName) {
	for _, e := range x.endpoints[owner] {
		deleteRef(x.endpointIPs, e.addr, owner)
	}
	bySlice := x.svcSlices[owner]
	names := make([]string, 0, len(bySlice))
	for name := range bySlice {
		names = append(names, name)
	}
	slices.Sort(names)
	var merged []endpoint
	for _, name := range names {
		merged = append(merged, bySlice[name]...)
	}
	if len(merged) == 0 {
		delete(x.endpoints, owner)
		return
	}
	x.endpoints[owner] = merged
	for _, e := range merged {
		x.addEndpointRef(owner, e)
	}
}

// addEndpointRef records that Service owner has endpoint e at its address,
// a ready entry winning over a not-ready one. The caller holds the lock.
func (x *index) addEndpointRef(owner nsName, e endpoint) {
	if prev, ok := x.endpointIPs[e.addr][owner]; ok && prev.ready && !e.ready {
		return
	}
	addRef(x.endpointIPs, e.addr, owner, endpRef{label: e.label(), ready: e.ready})
}
