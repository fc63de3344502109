package userspace

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/proxy"
)

// service is one service port as the backend serves it.
type service struct {
	name   proxy.ServicePortName
	pool   atomic.Pointer[pool]
	picker picker
	// Owned by the sync (under Backend.mu):
	eps       map[netip.AddrPort]*endpoint
	entries   []entry
	vips      []netip.Addr
	listening bool
}

// listener is an open socket of one entry.
type listener interface {
	owner() (*service, kind)
	close()
}

// Sync programs st: a full sync makes the backend's services, listeners
// and addresses those of st; a partial one touches only the service ports
// in st.Changed. A changed endpoint list replaces the pool connections
// read, keeping listeners and established connections. Errors (an
// address in use) do not stop the rest; they make the next sync full.
func (b *Backend) Sync(_ context.Context, st *proxy.State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	full := st.Full || b.needFull || !b.synced
	if full {
		// A partial sync trusts the interface (NeedsFullSync watches it).
		if err := b.link.ensure(); err != nil {
			b.needFull = true
			return fmt.Errorf("userspace %s: %w", b.cfg.Family, err)
		}
	}
	b.conns.open()
	var names []proxy.ServicePortName
	if full {
		b.npIPs = proxy.NodePortIPs(st, b.cfg.Family, b.cfg.LocalAddrs())
		b.loc.Store(b.localityOf(st))
		for name := range b.services {
			if st.Service(name) == nil {
				names = append(names, name)
			}
		}
		for _, ss := range st.Services {
			names = append(names, ss.Name)
		}
	} else {
		for name := range st.Changed {
			names = append(names, name)
		}
	}
	errs := b.apply(st, names)
	if full {
		if err := b.link.reconcile(b.vipRefs); err != nil {
			errs = append(errs, err)
		}
	}
	b.serveRules()
	b.synced = true
	b.needFull = len(errs) > 0
	return errors.Join(errs...)
}

// apply brings the named service ports to st in two passes, so that an
// address or listener moving from one service port to another is
// released before it is taken.
func (b *Backend) apply(st *proxy.State, names []proxy.ServicePortName) []error {
	type want struct {
		svc       *service
		ss        *proxy.ServiceState
		entries   []entry
		vips      []netip.Addr
		listening bool
	}
	var errs []error
	wants := make([]want, 0, len(names))
	for _, name := range names {
		ss := st.Service(name)
		svc := b.services[name]
		if ss == nil {
			if svc != nil {
				errs = append(errs, b.prune(svc, nil, nil, false)...)
				delete(b.services, name)
			}
			continue
		}
		if svc == nil {
			svc = &service{name: name, eps: map[netip.AddrPort]*endpoint{}}
			b.services[name] = svc
		}
		w := want{svc: svc, ss: ss, listening: ss.HasAny}
		w.entries, w.vips = entries(ss.ServicePort, b.npIPs)
		errs = append(errs, b.prune(svc, w.entries, w.vips, w.listening)...)
		wants = append(wants, w)
	}
	for _, w := range wants {
		b.setPool(w.svc, w.ss)
		errs = append(errs, b.grow(w.svc, w.entries, w.vips, w.listening)...)
	}
	return errs
}

// prune closes svc's listeners and releases its addresses that the new
// entries no longer have.
func (b *Backend) prune(svc *service, entries []entry, vips []netip.Addr, listening bool) []error {
	var errs []error
	for _, e := range svc.entries {
		l, ok := b.listeners[e.key]
		if !ok {
			continue
		}
		if owner, k := l.owner(); owner == svc && (!listening || !slices.Contains(entries, entry{key: e.key, kind: k})) {
			l.close()
			delete(b.listeners, e.key)
		}
	}
	for _, a := range svc.vips {
		if slices.Contains(vips, a) {
			continue
		}
		if b.vipRefs[a]--; b.vipRefs[a] <= 0 {
			delete(b.vipRefs, a)
			if err := b.link.del(a); err != nil {
				errs = append(errs, err)
			}
		}
	}
	svc.vips = slices.DeleteFunc(svc.vips, func(a netip.Addr) bool { return !slices.Contains(vips, a) })
	svc.entries = entries
	return errs
}

// grow takes the new addresses and opens the missing listeners.
func (b *Backend) grow(svc *service, entries []entry, vips []netip.Addr, listening bool) []error {
	var errs []error
	for _, a := range vips {
		if slices.Contains(svc.vips, a) {
			continue
		}
		svc.vips = append(svc.vips, a)
		if b.vipRefs[a]++; b.vipRefs[a] == 1 {
			if err := b.link.add(a); err != nil {
				errs = append(errs, err)
			}
		}
	}
	svc.listening = listening
	if !listening {
		return errs
	}
	for _, e := range entries {
		if l, ok := b.listeners[e.key]; ok {
			if owner, _ := l.owner(); owner != svc {
				errs = append(errs, fmt.Errorf("%s: %s is taken by %s", svc.name, e.key, owner.name))
			}
			continue
		}
		open := b.listenTCP
		if e.key.proto == "udp" {
			open = b.listenUDP
		}
		l, err := open(svc, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: listen on %s: %w", svc.name, e.key, err))
			continue
		}
		b.listeners[e.key] = l
	}
	return errs
}

// setPool replaces svc's endpoints, keeping the endpoint objects (and
// their connection counts) of the endpoints that stay.
func (b *Backend) setPool(svc *service, ss *proxy.ServiceState) {
	sched, ok := parseScheduler(ss.Scheduler)
	if ss.Scheduler == "" || !ok {
		sched = b.sched
	}
	keep := make(map[netip.AddrPort]*endpoint, len(ss.AllReachable))
	get := func(e proxy.Endpoint) *endpoint {
		ap := netip.AddrPortFrom(e.IP, uint16(e.Port))
		ep := svc.eps[ap]
		if ep == nil {
			ep = &endpoint{addr: ap, local: e.Local}
		}
		keep[ap] = ep
		return ep
	}
	p := &pool{sp: ss, sched: sched}
	for _, e := range ss.Cluster {
		p.cluster = append(p.cluster, get(e))
	}
	for _, e := range ss.Local {
		p.local = append(p.local, get(e))
	}
	svc.eps = keep
	if ss.AffinitySeconds == 0 {
		svc.picker.clearAffinity()
	}
	svc.pool.Store(p)
}

// network is the listener's Go network name.
func (k listenKey) network() string {
	if k.addr.Addr().Is4() {
		return k.proto + "4"
	}
	return k.proto + "6"
}

// freebind lets a listener bind an address the node does not hold (yet):
// a NodePort address that comes and goes. SO_REUSEPORT lets the next
// backend of a live configuration change listen beside this one until
// Handover (see Handover).
func freebind(network, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		if serr != nil {
			return
		}
		if network == "tcp6" || network == "udp6" {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
