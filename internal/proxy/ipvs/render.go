package ipvs

import (
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// virtual is one virtual service a service port wants, with its real
// servers (weight 1, as kube-proxy writes them).
type virtual struct {
	svc   Service
	dests []netip.AddrPort
	// bind says the address goes on kube-ipvs0 (not a node address).
	bind bool
}

// setEntry is one ipset entry.
type setEntry struct{ set, entry string }

// rendered is what one service port puts into the kernel.
type rendered struct {
	virtuals []virtual
	entries  []setEntry
	// outFilter are KUBE-IPVS-OUT-FILTER rules (node access to LB
	// addresses with source ranges that exclude the node).
	outFilter []string
}

// renderer renders service ports of one state.
type renderer struct {
	fam         corev1.IPFamily
	sched       func(*proxy.ServiceState) string
	nodeIP      netip.Addr
	nodeAddrs   map[netip.Addr]bool
	nodePortIPs []netip.Addr
}

func (r *renderer) set(name string) string { return setName(name, r.fam) }

// render is kube-proxy's per-service part of syncProxyRules.
func (r *renderer) render(s *proxy.ServiceState) rendered {
	var out rendered
	proto := proxy.ProtoLower(s.Protocol)
	ipPort := func(a netip.Addr) string { return a.String() + "," + proto + ":" + strconv.Itoa(int(s.Port)) }
	for _, e := range s.AllReachable {
		if e.Local {
			out.entries = append(out.entries, setEntry{r.set(setLoopBack), e.IP.String() + "," + proto + ":" + strconv.Itoa(int(e.Port)) + "," + e.IP.String()})
		}
	}
	out.entries = append(out.entries, setEntry{r.set(setClusterIP), ipPort(s.ClusterIP)})
	out.virtuals = append(out.virtuals, r.virtual(s, s.ClusterIP, s.Port, s.InternalPolicyLocal, true))
	for _, ip := range s.ExternalIPs {
		set := setExternalIP
		if s.ExternalPolicyLocal {
			set = setExternalIPLocal
		}
		out.entries = append(out.entries, setEntry{r.set(set), ipPort(ip)})
		out.virtuals = append(out.virtuals, r.virtual(s, ip, s.Port, s.ExternalPolicyLocal, !r.nodeAddrs[ip]))
	}
	for _, ip := range s.LoadBalancerVIPs {
		r.loadBalancer(&out, s, ip, ipPort(ip))
	}
	r.nodePorts(&out, s, proto)
	if s.HealthCheckNodePort != 0 {
		out.entries = append(out.entries, setEntry{r.set(setHealthCheck), strconv.Itoa(int(s.HealthCheckNodePort))})
	}
	for _, v := range out.virtuals {
		if v.bind {
			out.entries = append(out.entries, setEntry{r.set(setIPVSIPs), v.svc.Address.String()})
		}
	}
	return out
}

// loadBalancer adds one load-balancer address: its sets, its source
// ranges, its virtual service.
func (r *renderer) loadBalancer(out *rendered, s *proxy.ServiceState, ip netip.Addr, entry string) {
	out.entries = append(out.entries, setEntry{r.set(setLoadBalancer), entry})
	if s.ExternalPolicyLocal {
		out.entries = append(out.entries, setEntry{r.set(setLoadBalancerLocal), entry})
	}
	if len(s.LoadBalancerSourceRanges) > 0 {
		out.entries = append(out.entries, setEntry{r.set(setLoadBalancerFW), entry})
		fromNode := false
		for _, p := range s.LoadBalancerSourceRanges {
			out.entries = append(out.entries, setEntry{r.set(setLBSourceCIDR), entry + "," + p.Masked().String()})
			fromNode = fromNode || (r.nodeIP.IsValid() && p.Contains(r.nodeIP))
		}
		if fromNode {
			out.entries = append(out.entries, setEntry{r.set(setLBSourceIP), entry + "," + ip.String()})
		} else {
			out.outFilter = append(out.outFilter, "-A KUBE-IPVS-OUT-FILTER -s "+ip.String()+" -m ipvs --vaddr "+ip.String()+
				" --vproto "+proxy.ProtoLower(s.Protocol)+" --vport "+strconv.Itoa(int(s.Port))+" -j DROP")
		}
	}
	out.virtuals = append(out.virtuals, r.virtual(s, ip, s.Port, s.ExternalPolicyLocal, !r.nodeAddrs[ip]))
}

// nodePorts adds the NodePort's set entries and one virtual service per
// node address.
func (r *renderer) nodePorts(out *rendered, s *proxy.ServiceState, proto string) {
	if s.NodePort == 0 || len(r.nodePortIPs) == 0 {
		return
	}
	port := strconv.Itoa(int(s.NodePort))
	var set, local string
	var entries []string
	switch s.Protocol {
	case corev1.ProtocolTCP:
		set, local, entries = setNodePortTCP, setNodePortLocalTCP, []string{port}
	case corev1.ProtocolUDP:
		set, local, entries = setNodePortUDP, setNodePortLocalUDP, []string{port}
	case corev1.ProtocolSCTP:
		set, local = setNodePortSCTP, setNodePortLocalSCTP
		for _, ip := range r.nodePortIPs {
			entries = append(entries, ip.String()+","+proto+":"+port)
		}
	default:
		return
	}
	for _, e := range entries {
		out.entries = append(out.entries, setEntry{r.set(set), e})
		if s.ExternalPolicyLocal {
			out.entries = append(out.entries, setEntry{r.set(local), e})
		}
	}
	for _, ip := range r.nodePortIPs {
		out.virtuals = append(out.virtuals, r.virtual(s, ip, s.NodePort, s.ExternalPolicyLocal, false))
	}
}

// virtual is one virtual service of s. With onlyLocal its real servers are
// the node's endpoints, or when it has none every endpoint: kube-proxy's
// IPVS mode lets pods reach a Local-policy Service through any address
// (kubernetes#97081), where the iptables mode drops.
func (r *renderer) virtual(s *proxy.ServiceState, ip netip.Addr, port int32, onlyLocal, bind bool) virtual {
	v := virtual{svc: Service{Protocol: string(s.Protocol), Address: ip, Port: uint16(port), Scheduler: r.sched(s)}, bind: bind}
	if s.AffinitySeconds > 0 {
		v.svc.Flags |= FlagPersistent
		v.svc.Timeout = uint32(s.AffinitySeconds)
	}
	if v.svc.Scheduler == "mh" {
		v.svc.Flags |= FlagSchedMHPort
	}
	eps := s.Cluster
	if onlyLocal && len(s.Local) > 0 {
		eps = s.Local
	}
	for _, e := range eps {
		v.dests = append(v.dests, netip.AddrPortFrom(e.IP, uint16(e.Port)))
	}
	return v
}
