package endpointutil

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RepackSubsets returns subsets in canonical form: every address (told
// apart by IP and target UID) listed once per port, not-ready winning over
// ready when both are given; ports offered by exactly the same addresses
// (with the same readiness) grouped into one subset; addresses, ports and
// subsets sorted. Addresses of subsets without ports are kept in a subset
// without ports. The input is not modified.
func RepackSubsets(subsets []corev1.EndpointSubset) []corev1.EndpointSubset {
	r := repacker{addrs: map[addrID]corev1.EndpointAddress{}, ports: map[portID]map[addrID]bool{}}
	for i := range subsets {
		r.add(&subsets[i])
	}
	return r.build()
}

type addrID struct {
	ip  string
	uid types.UID
}

// portID is an EndpointPort as a comparable value; none marks the
// sentinel of subsets without ports.
type portID struct {
	name, protocol, appProtocol string
	port                        int32
	hasAppProtocol, none        bool
}

type repacker struct {
	addrs map[addrID]corev1.EndpointAddress
	ports map[portID]map[addrID]bool // address -> ready
}

func (r *repacker) add(ss *corev1.EndpointSubset) {
	ports := make([]portID, 0, len(ss.Ports))
	for _, p := range ss.Ports {
		ports = append(ports, toPortID(p))
	}
	if len(ports) == 0 {
		ports = append(ports, portID{none: true})
	}
	for _, p := range ports {
		for i := range ss.Addresses {
			r.addAddress(p, &ss.Addresses[i], true)
		}
		for i := range ss.NotReadyAddresses {
			r.addAddress(p, &ss.NotReadyAddresses[i], false)
		}
	}
}

func (r *repacker) addAddress(p portID, a *corev1.EndpointAddress, ready bool) {
	id := addrID{ip: a.IP}
	if a.TargetRef != nil {
		id.uid = a.TargetRef.UID
	}
	if _, ok := r.addrs[id]; !ok {
		r.addrs[id] = *a
	}
	set := r.ports[p]
	if set == nil {
		set = map[addrID]bool{}
		r.ports[p] = set
	}
	if was, seen := set[id]; !seen || was {
		set[id] = ready
	}
}

// group is the ports served by one set of addresses.
type group struct {
	members map[addrID]bool
	ports   []corev1.EndpointPort
}

func (r *repacker) build() []corev1.EndpointSubset {
	groups := map[string]*group{}
	for p, members := range r.ports {
		sig := signature(members)
		g := groups[sig]
		if g == nil {
			g = &group{members: members}
			groups[sig] = g
		}
		if !p.none {
			g.ports = append(g.ports, fromPortID(p))
		}
	}
	out := make([]corev1.EndpointSubset, 0, len(groups))
	for _, g := range groups {
		out = append(out, r.subset(g))
	}
	slices.SortFunc(out, func(a, b corev1.EndpointSubset) int { return cmp.Compare(subsetSortKey(a), subsetSortKey(b)) })
	return out
}

func (r *repacker) subset(g *group) corev1.EndpointSubset {
	var ss corev1.EndpointSubset
	for id, ready := range g.members {
		if ready {
			ss.Addresses = append(ss.Addresses, r.addrs[id])
		} else {
			ss.NotReadyAddresses = append(ss.NotReadyAddresses, r.addrs[id])
		}
	}
	slices.SortFunc(ss.Addresses, CompareAddresses)
	slices.SortFunc(ss.NotReadyAddresses, CompareAddresses)
	slices.SortFunc(g.ports, comparePorts)
	ss.Ports = g.ports
	return ss
}

// signature names a set of addresses with their readiness.
func signature(members map[addrID]bool) string {
	parts := make([]string, 0, len(members))
	for id, ready := range members {
		parts = append(parts, fmt.Sprintf("%s/%s/%t", id.ip, id.uid, ready))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// CompareAddresses orders addresses by IP (as text), then target UID, an
// address without target first.
func CompareAddresses(a, b corev1.EndpointAddress) int {
	if c := cmp.Compare(a.IP, b.IP); c != 0 {
		return c
	}
	return cmp.Compare(refUID(a.TargetRef), refUID(b.TargetRef))
}

func refUID(ref *corev1.ObjectReference) types.UID {
	if ref == nil {
		return ""
	}
	return ref.UID
}

func comparePorts(a, b corev1.EndpointPort) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(deref(a.AppProtocol), deref(b.AppProtocol)))
}

// subsetSortKey orders subsets by their ports, then their addresses.
func subsetSortKey(ss corev1.EndpointSubset) string {
	var b strings.Builder
	for _, p := range ss.Ports {
		fmt.Fprintf(&b, "%s/%d/%s;", p.Name, p.Port, p.Protocol)
	}
	b.WriteByte('#')
	for _, a := range ss.Addresses {
		fmt.Fprintf(&b, "%s/%s;", a.IP, refUID(a.TargetRef))
	}
	for _, a := range ss.NotReadyAddresses {
		fmt.Fprintf(&b, "!%s/%s;", a.IP, refUID(a.TargetRef))
	}
	return b.String()
}

func toPortID(p corev1.EndpointPort) portID {
	id := portID{name: p.Name, protocol: string(p.Protocol), port: p.Port}
	if p.AppProtocol != nil {
		id.appProtocol, id.hasAppProtocol = *p.AppProtocol, true
	}
	return id
}

func fromPortID(id portID) corev1.EndpointPort {
	p := corev1.EndpointPort{Name: id.name, Port: id.port, Protocol: corev1.Protocol(id.protocol)}
	if id.hasAppProtocol {
		ap := id.appProtocol
		p.AppProtocol = &ap
	}
	return p
}
