package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// dirty is what a sync must compare with the kernel.
type dirty struct {
	vs      map[string]bool
	entries map[setEntry]bool
	addrs   map[netip.Addr]bool
}

// Sync programs st. A full sync reads the kernel's state first and
// repairs every difference; a partial one touches only the virtual
// services, set entries and addresses of the service ports in st.Changed.
// IPVS has no transactions: a failed operation is reported, the others
// still run, and the next sync is full.
func (b *Backend) Sync(ctx context.Context, st *proxy.State) error {
	err := b.sync(ctx, st)
	b.needFull = err != nil
	return err
}

func (b *Backend) sync(ctx context.Context, st *proxy.State) error {
	full := st.Full || b.needFull
	d := dirty{vs: map[string]bool{}, entries: map[setEntry]bool{}, addrs: map[netip.Addr]bool{}}
	if full {
		if err := b.prepare(st); err != nil {
			return err
		}
	}
	r := &renderer{fam: st.Family, sched: b.scheduler, nodeAddrs: b.nodeAddrs, nodePortIPs: b.nodePortIPs}
	if len(st.Node.IPs) > 0 {
		r.nodeIP = st.Node.IPs[0]
	}
	b.update(st, r, full, d)
	if full {
		b.allDirty(d)
	}
	var errs []error
	errs = append(errs, b.drain()...)
	errs = append(errs, b.applyVirtuals(d)...)
	errs = append(errs, b.applyAddrs(d, true)...)
	errs = append(errs, b.applyEntries(d, true)...)
	if err := b.applyRules(ctx, st, full); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, b.applyEntries(d, false)...)
	errs = append(errs, b.applyAddrs(d, false)...)
	return errors.Join(errs...)
}

// update renders the service ports the sync covers and accounts for
// them, marking what changed.
func (b *Backend) update(st *proxy.State, r *renderer, full bool, d dirty) {
	if full {
		for name, old := range b.held {
			b.account(name, old, false, d)
		}
		b.held = map[proxy.ServicePortName]rendered{}
		for _, s := range st.Services {
			b.hold(s, r, d)
		}
		return
	}
	for name := range st.Changed {
		if old, ok := b.held[name]; ok {
			b.account(name, old, false, d)
			delete(b.held, name)
		}
		if s := st.Service(name); s != nil {
			b.hold(s, r, d)
		}
	}
}

func (b *Backend) hold(s *proxy.ServiceState, r *renderer, d dirty) {
	out := r.render(s)
	b.held[s.Name] = out
	b.account(s.Name, out, true, d)
}

// account adds (or removes) what one service port wants to the
// aggregates.
func (b *Backend) account(name proxy.ServicePortName, r rendered, add bool, d dirty) {
	delta := -1
	if add {
		delta = 1
	}
	for _, v := range r.virtuals {
		key := v.svc.Key()
		d.vs[key] = true
		if add {
			if b.claims[key] == nil {
				b.claims[key] = map[proxy.ServicePortName]virtual{}
			}
			b.claims[key][name] = v
		} else if delete(b.claims[key], name); len(b.claims[key]) == 0 {
			delete(b.claims, key)
		}
		if v.bind {
			d.addrs[v.svc.Address] = true
			addCount(b.binds, v.svc.Address, delta)
		}
	}
	for _, e := range r.entries {
		d.entries[e] = true
		if b.entries[e.set] == nil {
			b.entries[e.set] = map[string]int{}
		}
		if addCount(b.entries[e.set], e.entry, delta); len(b.entries[e.set]) == 0 {
			delete(b.entries, e.set)
		}
	}
	for _, l := range r.outFilter {
		addCount(b.outFilter, l, delta)
	}
}

func addCount[K comparable](m map[K]int, k K, delta int) {
	if m[k] += delta; m[k] <= 0 {
		delete(m, k)
	}
}

// allDirty marks everything wanted or held by the kernel.
func (b *Backend) allDirty(d dirty) {
	for key := range b.claims {
		d.vs[key] = true
	}
	for key := range b.kvs {
		d.vs[key] = true
	}
	for set, es := range b.entries {
		for e := range es {
			d.entries[setEntry{set, e}] = true
		}
	}
	for set, es := range b.kentries {
		for e := range es {
			d.entries[setEntry{set, e}] = true
		}
	}
	for a := range b.binds {
		d.addrs[a] = true
	}
	for a := range b.kaddrs {
		d.addrs[a] = true
	}
}

// winner is the virtual service claimed for key: the first service port's
// by name when several claim it (the others are logged once).
func (b *Backend) winner(key string) (virtual, bool) {
	c := b.claims[key]
	if len(c) == 0 {
		return virtual{}, false
	}
	names := make([]proxy.ServicePortName, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return names[i].String()+string(names[i].Protocol) < names[j].String()+string(names[j].Protocol)
	})
	if len(names) > 1 && !b.warned["claim "+key] {
		b.warned["claim "+key] = true
		b.log.Warn("several service ports claim one virtual service; the first keeps it", "virtualService", key, "owner", names[0].String(), "other", names[1].String())
	}
	return c[names[0]], true
}

// applyAddrs binds (add) or unbinds (!add) the dirty addresses of
// kube-ipvs0.
func (b *Backend) applyAddrs(d dirty, add bool) []error {
	var errs []error
	for _, a := range sortedKeys(d.addrs, func(x, y netip.Addr) bool { return x.Less(y) }) {
		want, have := b.binds[a] > 0, b.kaddrs[a]
		switch {
		case add && want && !have:
			if err := b.k.Links.AddAddr(DummyDevice, a); err != nil {
				errs = append(errs, fmt.Errorf("bind %s to %s: %w", a, DummyDevice, err))
				continue
			}
			b.kaddrs[a] = true
		case !add && !want && have:
			if err := b.k.Links.DelAddr(DummyDevice, a); err != nil {
				errs = append(errs, fmt.Errorf("unbind %s from %s: %w", a, DummyDevice, err))
				continue
			}
			delete(b.kaddrs, a)
		}
	}
	return errs
}

// applyEntries adds (add) or deletes (!add) the dirty set entries.
func (b *Backend) applyEntries(d dirty, add bool) []error {
	var errs []error
	for _, e := range sortedKeys(d.entries, func(x, y setEntry) bool { return x.set+" "+x.entry < y.set+" "+y.entry }) {
		want, have := b.entries[e.set][e.entry] > 0, b.kentries[e.set][e.entry]
		switch {
		case add && want && !have:
			if err := b.k.Sets.AddEntry(e.set, e.entry); err != nil {
				errs = append(errs, fmt.Errorf("ipset add %s %s: %w", e.set, e.entry, err))
				continue
			}
			if b.kentries[e.set] == nil {
				b.kentries[e.set] = map[string]bool{}
			}
			b.kentries[e.set][e.entry] = true
		case !add && !want && have:
			if err := b.k.Sets.DelEntry(e.set, e.entry); err != nil {
				errs = append(errs, fmt.Errorf("ipset del %s %s: %w", e.set, e.entry, err))
				continue
			}
			delete(b.kentries[e.set], e.entry)
		}
	}
	return errs
}

func sortedKeys[K comparable, V any](m map[K]V, less func(a, b K) bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// familyOf is an address's family.
func familyOf(a netip.Addr) corev1.IPFamily { return proxy.Family(a) }
