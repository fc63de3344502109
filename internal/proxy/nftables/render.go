package nftables

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy"
)

// scheduler is how a pick chain chooses an endpoint.
type scheduler string

// The schedulers of the svcplane.io/scheduler annotation.
const (
	schedRandom scheduler = "random"
	schedRR     scheduler = "rr"
	schedSH     scheduler = "sh"
)

// schedulerOf reads the svcplane.io/scheduler annotation; ok is false
// for a value the mode does not know (which gets random).
func schedulerOf(s string) (sched scheduler, ok bool) {
	switch scheduler(s) {
	case schedRR, schedSH, schedRandom:
		return scheduler(s), true
	case "":
		return schedRandom, true
	}
	return schedRandom, false
}

// element is one element of a set or map of the layout.
type element struct {
	set   string
	key   []string
	value []string
}

// id identifies the element's key within its set: "set k1 . k2". One
// allocation: a full sync makes one per element.
func (e element) id() string {
	n := len(e.set)
	for _, k := range e.key {
		n += len(k) + 3
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(e.set)
	for i, k := range e.key {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(" . ")
		}
		b.WriteString(k)
	}
	return b.String()
}

// chainDef is a regular chain a service port needs (pick and affinity
// chains), with its rules.
type chainDef struct {
	name  string
	rules []string
}

// rendered is what one service port puts into the layout.
type rendered struct {
	elements []element
	chains   []chainDef
	// scheduler is the annotation's value, as given.
	scheduler string
}

// renderer turns service ports into elements. It is pure given its
// fields.
type renderer struct {
	fam family
	// nodePortIPs are the addresses NodePorts answer on.
	nodePortIPs []netip.Addr
	// nodeIPs are the node's own addresses (for source ranges that
	// contain the node).
	nodeIPs []netip.Addr
}

// entry is one way into a service port.
type entry struct {
	addr     netip.Addr
	port     int32
	external bool
	lb       bool
}

func (r *renderer) entries(s *proxy.ServiceState) []entry {
	out := []entry{{addr: s.ClusterIP, port: s.Port}}
	for _, ip := range s.ExternalIPs {
		out = append(out, entry{addr: ip, port: s.Port, external: true})
	}
	for _, ip := range s.LoadBalancerVIPs {
		out = append(out, entry{addr: ip, port: s.Port, external: true, lb: true})
	}
	if s.NodePort != 0 {
		for _, ip := range r.nodePortIPs {
			out = append(out, entry{addr: ip, port: s.NodePort, external: true})
		}
	}
	return out
}

// render computes the elements and chains of one service port.
//
// Hairpin pairs: a pod reaches itself through a Service unmasqueraded
// only when this node DNATs the pod's own packet to the pod. A pod's
// packets to a cluster IP are DNATed on the pod's node, so the pairs of
// this node's endpoints do for them (kube-proxy's IPVS mode keeps the
// same in KUBE-LOOP-BACK). Pod sources also keep their address through
// an externalTrafficPolicy: Local entry (NodePort, external or LB
// address) of any node, so such a Service's endpoints all get pairs.
// Every other external entry masquerades anyway.
func (r *renderer) render(s *proxy.ServiceState) rendered {
	out := rendered{scheduler: s.Scheduler}
	proto := proxy.ProtoLower(s.Protocol)
	sched, _ := schedulerOf(s.Scheduler)
	seen := map[string]bool{}
	addChain := func(c chainDef) {
		if !seen[c.name] {
			seen[c.name] = true
			out.chains = append(out.chains, c)
		}
	}
	lbTo := func(set string, k []string, eps []proxy.Endpoint) {
		chain := pickChain(set, proto, sched, len(eps), s.Name)
		addChain(chainDef{chain, []string{r.fam.pickRule(set, proto, sched, len(eps))}})
		lbMap, epMap := mapLBCluster, epMapName(mapEPCluster, proto)
		if set == "local" {
			lbMap, epMap = mapLBLocal, epMapName(mapEPLocal, proto)
		}
		out.elements = append(out.elements, element{lbMap, k, []string{"goto " + chain}})
		for i, ep := range eps {
			slotKey := []string{k[0], k[2], strconv.Itoa(i)}
			out.elements = append(out.elements, element{epMap, slotKey, []string{ep.IP.String(), strconv.Itoa(int(ep.Port))}})
		}
	}
	externalLocal := false
	for _, e := range r.entries(s) {
		k := []string{e.addr.String(), proto, strconv.Itoa(int(e.port))}
		class, cluster, local := r.classify(s, e)
		externalLocal = externalLocal || class == chainExternalL
		if class == "" {
			verdict := "goto " + chainReject
			if s.HasAny {
				verdict = "drop"
			}
			out.elements = append(out.elements, element{mapNoEndpoints, k, []string{verdict}})
			continue
		}
		out.elements = append(out.elements, element{mapServiceIPs, k, []string{"goto " + class}})
		if len(cluster) > 0 {
			lbTo("cluster", k, cluster)
		}
		if len(local) > 0 {
			lbTo("local", k, local)
		}
		if s.AffinitySeconds > 0 {
			chain := affinityChain(s.AffinitySeconds)
			addChain(chainDef{chain, r.fam.affinityRules(s.AffinitySeconds)})
			out.elements = append(out.elements, element{mapAffinitySvcs, k, []string{"goto " + chain}})
		}
		if e.lb && len(s.LoadBalancerSourceRanges) > 0 {
			out.elements = append(out.elements, r.firewall(s, e, k)...)
		}
	}
	for _, ep := range s.AllReachable {
		if ep.Local || externalLocal {
			ip := ep.IP.String()
			out.elements = append(out.elements, element{setHairpin, []string{ip, ip}, nil})
		}
	}
	return out
}

// classify picks the class chain of an entry and the endpoints its two
// pick maps need; class is "" when no traffic to the entry has an
// endpoint.
func (r *renderer) classify(s *proxy.ServiceState, e entry) (class string, cluster, local []proxy.Endpoint) {
	switch {
	case !e.external && s.InternalPolicyLocal:
		if len(s.Local) == 0 {
			return "", nil, nil
		}
		return chainClusterIPL, nil, s.Local
	case !e.external:
		if len(s.Cluster) == 0 {
			return "", nil, nil
		}
		return chainClusterIP, s.Cluster, nil
	case s.ExternalPolicyLocal:
		if len(s.Cluster) == 0 && len(s.Local) == 0 {
			return "", nil, nil
		}
		return chainExternalL, s.Cluster, s.Local
	default:
		if len(s.Cluster) == 0 {
			return "", nil, nil
		}
		return chainExternal, s.Cluster, nil
	}
}

// firewall allows a load-balancer address only from its source ranges
// (and from the address itself when a range holds the node, as
// kube-proxy allows).
func (r *renderer) firewall(s *proxy.ServiceState, e entry, k []string) []element {
	out := []element{{setFirewallIPs, k, nil}}
	holdsNode := false
	for _, p := range s.LoadBalancerSourceRanges {
		out = append(out, element{setFirewallAllow, append(k[:3:3], p.Masked().String()), nil})
		for _, ip := range r.nodeIPs {
			holdsNode = holdsNode || p.Contains(ip)
		}
	}
	if holdsNode {
		out = append(out, element{setFirewallAllow, append(k[:3:3], netip.PrefixFrom(e.addr, e.addr.BitLen()).String()), nil})
	}
	return out
}
