package userspace

import (
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/svcplane/svcplane/internal/proxy"
)

// kind is how a connection reached a service port.
type kind uint8

// The kinds of entry.
const (
	kindClusterIP kind = iota
	kindExternalIP
	kindLoadBalancer
	kindNodePort
)

func (k kind) String() string {
	return [...]string{"cluster-ip", "external-ip", "load-balancer", "node-port"}[k]
}

// verdict is what happens to a connection that gets no endpoint.
type verdict uint8

const (
	accept verdict = iota
	// drop: kube-proxy drops the packet (no local endpoint, a source
	// outside loadBalancerSourceRanges). A TCP connection is reset at
	// once (it was already accepted by the kernel); a datagram is dropped.
	drop
	// reject: no endpoint at all. The backend then does not listen, so
	// the kernel refuses the connection (RST, ICMP port unreachable).
	reject
)

// endpoint is one backend address of a service port. It outlives the
// endpoint lists that hold it while the endpoint stays, so that its count
// of active connections (for lc) is kept across syncs.
type endpoint struct {
	addr   netip.AddrPort
	local  bool
	active atomic.Int64
}

// pool is what a service port balances over; a sync replaces it whole
// (connections read it without locks).
type pool struct {
	sp      *proxy.ServiceState
	cluster []*endpoint
	local   []*endpoint
	sched   scheduler
}

// locality tells the node's own addresses and pod addresses apart from
// traffic from outside, for externalTrafficPolicy Local.
type locality struct {
	clusterCIDRs []netip.Prefix
	nodeAddrs    map[netip.Addr]bool
}

func (l *locality) fromPod(a netip.Addr) bool {
	for _, p := range l.clusterCIDRs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (l *locality) fromNode(a netip.Addr) bool { return a.IsLoopback() || l.nodeAddrs[a] }

// route says which endpoints a connection from src arriving through an
// entry of kind k may use, as kube-proxy's rules decide it: the cluster
// IP uses the internal policy; external entries use the external policy,
// except for pods and the node itself, which short-circuit to the Cluster
// endpoints; a load-balancer address first checks the source ranges.
func (p *pool) route(k kind, src netip.Addr, loc *locality) ([]*endpoint, verdict) {
	var eps []*endpoint
	switch {
	case k == kindClusterIP && p.sp.InternalPolicyLocal:
		eps = p.local
	case k == kindClusterIP:
		eps = p.cluster
	case k == kindLoadBalancer && !allowedSource(p.sp.LoadBalancerSourceRanges, src):
		return nil, drop
	case p.sp.ExternalPolicyLocal && !loc.fromPod(src) && !loc.fromNode(src):
		eps = p.local
	default:
		eps = p.cluster
	}
	switch {
	case len(eps) > 0:
		return eps, accept
	case p.sp.HasAny:
		return nil, drop
	}
	return nil, reject
}

func allowedSource(ranges []netip.Prefix, src netip.Addr) bool {
	if len(ranges) == 0 {
		return true
	}
	return slices.ContainsFunc(ranges, func(p netip.Prefix) bool { return p.Contains(src) })
}

// listenKey is one address, port and protocol the backend listens on.
type listenKey struct {
	addr  netip.AddrPort
	proto string // "tcp" or "udp"
}

func (k listenKey) String() string { return k.addr.String() + "/" + k.proto }

// entry is one way into a service port.
type entry struct {
	key  listenKey
	kind kind
}

// entries lists the ways into sp: its cluster IP, external IPs and
// load-balancer addresses at its port, and its NodePort on nodePortIPs;
// vips are the addresses the dummy interface must hold for it.
func entries(sp *proxy.ServicePort, nodePortIPs []netip.Addr) (out []entry, vips []netip.Addr) {
	proto := proxy.ProtoLower(sp.Protocol)
	add := func(a netip.Addr, port int32, k kind) {
		out = append(out, entry{key: listenKey{addr: netip.AddrPortFrom(a, uint16(port)), proto: proto}, kind: k})
	}
	add(sp.ClusterIP, sp.Port, kindClusterIP)
	vips = append(vips, sp.ClusterIP)
	for _, a := range sp.ExternalIPs {
		add(a, sp.Port, kindExternalIP)
		vips = append(vips, a)
	}
	for _, a := range sp.LoadBalancerVIPs {
		add(a, sp.Port, kindLoadBalancer)
		vips = append(vips, a)
	}
	if sp.NodePort != 0 {
		for _, a := range nodePortIPs {
			add(a, sp.NodePort, kindNodePort)
		}
	}
	return out, vips
}
