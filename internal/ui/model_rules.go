package ui

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// addRules follows a new connection from each node to each of the
// Service's cluster IPs and ports through every mode's rules the node
// holds, and hangs each way on the endpoint it ends at (or on the Service
// when it ends at none of them).
func addRules(s *Service, in Input, svc *corev1.Service) {
	eps := endpointIndex(s)
	for _, node := range in.Nodes {
		rules, ok := in.Rules[node.Name]
		if !ok || rules.Err != nil {
			continue
		}
		for _, ip := range s.ClusterIPs {
			dst, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			src, ok := sourceFor(node, dst)
			if !ok {
				continue
			}
			for _, p := range svc.Spec.Ports {
				pkt := tracer.Packet{Protocol: servicePortProto(p), Src: src, Dst: dst, Port: p.Port}
				for _, mr := range rules.Modes {
					for _, path := range mr.Explainer.Explain(pkt) {
						w := Way{Node: node.Name, Mode: mr.Mode, Port: portName(p), To: path.To, Chance: path.Prob, Masq: path.Masq, Rules: path.Rules}
						if w.Rules == nil {
							w.Rules = []string{}
						}
						if ep, ok := eps[endpointAddr(path.To)]; ok {
							ep.Rules = append(ep.Rules, w)
						} else {
							s.Rules = append(s.Rules, w)
						}
					}
				}
			}
		}
	}
	sortWays(s.Rules)
	for _, ep := range eps {
		sortWays(ep.Rules)
	}
}

// endpointIndex finds each endpoint of the Service by its addresses.
func endpointIndex(s *Service) map[string]*Endpoint {
	out := map[string]*Endpoint{}
	for i := range s.Slices {
		for j := range s.Slices[i].Endpoints {
			ep := &s.Slices[i].Endpoints[j]
			for _, a := range ep.Addresses {
				if addr, err := netip.ParseAddr(a); err == nil {
					out[addr.String()] = ep
				}
			}
		}
	}
	return out
}

// endpointAddr is the address of a way's "ip:port" end, "" for a verdict.
func endpointAddr(to string) string {
	if ap, err := netip.ParseAddrPort(to); err == nil {
		return ap.Addr().String()
	}
	return ""
}

// sourceFor is the node's address of dst's family: the source of a
// connection the node itself opens.
func sourceFor(node *corev1.Node, dst netip.Addr) (netip.Addr, bool) {
	for _, a := range nodeAddrs(node) {
		if a.Is4() == dst.Is4() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func portName(p corev1.ServicePort) string {
	s := strconv.Itoa(int(p.Port)) + "/" + string(servicePortProto(p))
	if p.Name != "" {
		s = p.Name + " " + s
	}
	return s
}

func sortWays(ws []Way) {
	slices.SortStableFunc(ws, func(a, b Way) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Port, b.Port))
	})
}
