package userspace

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// Tracer traces packets through what the backend serves now. The
// endpoints of a result are every endpoint the scheduler may pick for the
// source; Masq is always true for them, since the proxy connects to the
// endpoint from the node's own address.
func (b *Backend) Tracer() tracer.Tracer { return backendTracer{b} }

type backendTracer struct{ b *Backend }

// Trace looks up the entry of p's destination: none on an address the
// backend holds is a refusal by the kernel (REJECT); none elsewhere is
// not the proxy's traffic.
func (t backendTracer) Trace(p tracer.Packet) tracer.Result {
	b := t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	key := listenKey{addr: netip.AddrPortFrom(p.Dst, uint16(p.Port)), proto: proxy.ProtoLower(p.Protocol)}
	svc, k, ok := b.entryOf(key)
	switch {
	case !ok && b.vipRefs[p.Dst] > 0:
		return tracer.Result{Output: tracer.Reject}
	case !ok:
		return tracer.Result{Output: tracer.None}
	case !svc.listening:
		return tracer.Result{Output: tracer.Reject}
	}
	eps, v := svc.pool.Load().route(k, p.Src, b.loc.Load())
	switch v {
	case drop:
		return tracer.Result{Output: tracer.Drop}
	case reject:
		return tracer.Result{Output: tracer.Reject}
	}
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.addr.String()
	}
	slices.Sort(out)
	return tracer.Result{Output: strings.Join(out, ", "), Masq: true}
}

// entryOf finds the service port and kind of an entry, listening or not.
func (b *Backend) entryOf(key listenKey) (*service, kind, bool) {
	if l, ok := b.listeners[key]; ok {
		svc, k := l.owner()
		return svc, k, true
	}
	for _, svc := range b.services {
		for _, e := range svc.entries {
			if e.key == key {
				return svc, e.kind, true
			}
		}
	}
	return nil, 0, false
}
