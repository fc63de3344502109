package cluster

// index_endpoints.go: EndpointSlices in the index. Slices are joined to
// their Service by the label kubernetes.io/service-name only; a change to
// one slice re-merges the endpoints of that one Service (never the whole
// index) and updates the reverse map of endpoint IPs.

import (
	"net/netip"
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
		x.deleteEndpointRef(owner, e.addr)
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
	refs := x.endpointIPs[e.addr]
	for i := range refs {
		if refs[i].owner == owner {
			if !refs[i].ready || e.ready {
				refs[i].hostname, refs[i].ready = e.hostname, e.ready
			}
			return
		}
	}
	x.endpointIPs[e.addr] = append(refs, endpRef{owner: owner, hostname: e.hostname, ready: e.ready})
}

// deleteEndpointRef forgets Service owner's endpoint at addr. The caller
// holds the lock.
func (x *index) deleteEndpointRef(owner nsName, addr netip.Addr) {
	refs := slices.DeleteFunc(x.endpointIPs[addr], func(r endpRef) bool { return r.owner == owner })
	if len(refs) == 0 {
		delete(x.endpointIPs, addr)
		return
	}
	x.endpointIPs[addr] = refs
}
