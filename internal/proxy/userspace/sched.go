package userspace

import (
	"hash/fnv"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// scheduler is how a service port picks an endpoint for a new connection.
type scheduler uint8

// The schedulers (IPVS's names).
const (
	// schedRR takes the endpoints in turn.
	schedRR scheduler = iota
	// schedLC takes the endpoint with the fewest active connections.
	schedLC
	// schedSH hashes the client's address: one client, one endpoint.
	schedSH
)

func (s scheduler) String() string { return [...]string{"rr", "lc", "sh"}[s] }

// parseScheduler reads a scheduler name; "" is rr; ok is false for a name
// this mode does not know (which gets rr).
func parseScheduler(name string) (s scheduler, ok bool) {
	switch name {
	case "", "rr":
		return schedRR, true
	case "lc":
		return schedLC, true
	case "sh":
		return schedSH, true
	}
	return schedRR, false
}

// picker chooses endpoints for one service port; it keeps the round-robin
// position and the ClientIP affinity table across syncs.
type picker struct {
	mu   sync.Mutex
	next uint64
	aff  map[netip.Addr]affinity
	// sweepAt is the table size at which expired entries are swept next.
	sweepAt int
}

type affinity struct {
	ep      netip.AddrPort
	expires time.Time
}

// pick chooses an endpoint of eps for a connection from client, leaving
// out the ones already tried: the client's affinity endpoint while its
// timeout runs, else the scheduler's choice. It returns nil when every
// endpoint was tried.
func (pk *picker) pick(p *pool, eps []*endpoint, client netip.Addr, tried []*endpoint, now time.Time) *endpoint {
	ok := func(e *endpoint) bool { return !slices.Contains(tried, e) }
	pk.mu.Lock()
	defer pk.mu.Unlock()
	if p.sp.AffinitySeconds > 0 {
		if a, found := pk.aff[client]; found && now.Before(a.expires) {
			if i := slices.IndexFunc(eps, func(e *endpoint) bool { return e.addr == a.ep }); i >= 0 && ok(eps[i]) {
				return eps[i]
			}
		}
	}
	switch p.sched {
	case schedLC:
		var best *endpoint
		n := uint64(len(eps))
		for i := range n {
			e := eps[(pk.next+i)%n]
			if ok(e) && (best == nil || e.active.Load() < best.active.Load()) {
				best = e
			}
		}
		pk.next++
		return best
	case schedSH:
		return probe(eps, hashAddr(client), ok)
	}
	e := probe(eps, pk.next, ok)
	pk.next++
	return e
}

// probe returns the first endpoint from start on (wrapping) that ok
// accepts.
func probe(eps []*endpoint, start uint64, ok func(*endpoint) bool) *endpoint {
	n := uint64(len(eps))
	for i := range n {
		if e := eps[(start+i)%n]; ok(e) {
			return e
		}
	}
	return nil
}

func hashAddr(a netip.Addr) uint64 {
	h := fnv.New64a()
	b := a.As16()
	h.Write(b[:])
	return h.Sum64()
}

// remember records that client uses ep, for seconds from now (ClientIP
// affinity; iptables mode's `recent --set` on every new connection).
func (pk *picker) remember(client netip.Addr, ep netip.AddrPort, seconds int32, now time.Time) {
	if seconds <= 0 {
		return
	}
	pk.mu.Lock()
	defer pk.mu.Unlock()
	if pk.aff == nil {
		pk.aff = map[netip.Addr]affinity{}
	}
	pk.aff[client] = affinity{ep: ep, expires: now.Add(time.Duration(seconds) * time.Second)}
	if len(pk.aff) >= pk.sweepAt {
		for c, a := range pk.aff {
			if !now.Before(a.expires) {
				delete(pk.aff, c)
			}
		}
		pk.sweepAt = 2*len(pk.aff) + 64
	}
}

// forget drops client's affinity to ep (it failed to connect).
func (pk *picker) forget(client netip.Addr, ep netip.AddrPort) {
	pk.mu.Lock()
	defer pk.mu.Unlock()
	if a, ok := pk.aff[client]; ok && a.ep == ep {
		delete(pk.aff, client)
	}
}

// clearAffinity empties the table (affinity turned off).
func (pk *picker) clearAffinity() {
	pk.mu.Lock()
	defer pk.mu.Unlock()
	pk.aff = nil
	pk.sweepAt = 0
}
