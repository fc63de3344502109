package proxy

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// EndpointsMap holds the endpoints of every service port, for one family,
// each list sorted by "ip:port" as kube-proxy keeps them.
type EndpointsMap map[ServicePortName][]Endpoint

// SliceEndpoints merges the EndpointSlices of one Service (all of the
// State's family) into the endpoints of each of its ports. An endpoint
// listed by several slices is counted once; if the copies disagree about
// being local, local wins, as in kube-proxy.
func SliceEndpoints(svc types.NamespacedName, slices []*discoveryv1.EndpointSlice, nodeName string) EndpointsMap {
	sets := map[ServicePortName]map[string]Endpoint{}
	for _, s := range slices {
		for _, p := range s.Ports {
			if p.Port == nil || *p.Port == 0 {
				continue
			}
			name := ServicePortName{NamespacedName: svc, Protocol: corev1.ProtocolTCP}
			if p.Name != nil {
				name.Port = *p.Name
			}
			if p.Protocol != nil {
				name.Protocol = *p.Protocol
			}
			set := sets[name]
			if set == nil {
				set = map[string]Endpoint{}
				sets[name] = set
			}
			for i := range s.Endpoints {
				ep, ok := sliceEndpoint(&s.Endpoints[i], *p.Port, nodeName)
				if !ok {
					continue
				}
				key := ep.String()
				if _, seen := set[key]; !seen || ep.Local {
					set[key] = ep
				}
			}
		}
	}
	out := make(EndpointsMap, len(sets))
	for name, set := range sets {
		eps := make([]Endpoint, 0, len(set))
		for _, ep := range set {
			eps = append(eps, ep)
		}
		sort.Slice(eps, func(i, j int) bool { return eps[i].String() < eps[j].String() })
		out[name] = eps
	}
	return out
}

func sliceEndpoint(e *discoveryv1.Endpoint, port int32, nodeName string) (Endpoint, bool) {
	if len(e.Addresses) == 0 {
		return Endpoint{}, false
	}
	ip, err := netip.ParseAddr(e.Addresses[0])
	if err != nil {
		return Endpoint{}, false
	}
	ep := Endpoint{
		IP:          ip.Unmap(),
		Port:        port,
		Ready:       e.Conditions.Ready == nil || *e.Conditions.Ready,
		Serving:     e.Conditions.Serving == nil || *e.Conditions.Serving,
		Terminating: e.Conditions.Terminating != nil && *e.Conditions.Terminating,
	}
	if e.NodeName != nil {
		ep.NodeName = *e.NodeName
		ep.Local = nodeName != "" && *e.NodeName == nodeName
	}
	if e.Hints != nil {
		for _, z := range e.Hints.ForZones {
			ep.ZoneHints = append(ep.ZoneHints, z.Name)
		}
	}
	return ep, true
}

// SliceFamily is the IP family of an EndpointSlice's addresses, or "" for
// FQDN slices, which proxies ignore.
func SliceFamily(s *discoveryv1.EndpointSlice) corev1.IPFamily {
	switch s.AddressType {
	case discoveryv1.AddressTypeIPv4:
		return corev1.IPv4Protocol
	case discoveryv1.AddressTypeIPv6:
		return corev1.IPv6Protocol
	}
	return ""
}
