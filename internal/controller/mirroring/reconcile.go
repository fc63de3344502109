package mirroring

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// Input is what the mirrored slices of one Endpoints are computed from.
type Input struct {
	// Endpoints is the hand-written Endpoints to mirror.
	Endpoints *corev1.Endpoints
	// Slices are the slices this controller mirrored for it.
	Slices []*discoveryv1.EndpointSlice
	// MaxEndpointsPerSubset caps the addresses mirrored from one
	// (repacked) subset; the rest are skipped.
	MaxEndpointsPerSubset int
}

// Plan is the writes that bring the mirrored slices in line, and what was
// left out.
type Plan struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
	// Invalid counts addresses that are not IPs; Skipped counts every
	// address not mirrored, the invalid ones included.
	Invalid, Skipped int
}

// group is the desired endpoints of one (address type, port list).
type group struct {
	t         discoveryv1.AddressType
	ports     []discoveryv1.EndpointPort
	endpoints *endpointutil.EndpointSet
}

// Reconcile computes the mirrored slices of an Endpoints: its subsets are
// repacked, and the addresses of each (address type, port list) go into
// one slice, ready ones with ready=true and not-ready ones with
// ready=false. Slices left without endpoints are deleted; a slice is
// updated only when its endpoints, labels or annotations differ.
func Reconcile(in Input) Plan {
	var plan Plan
	groups, order := desired(in, &plan)
	existing := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range sortedByName(in.Slices) {
		k := groupKey(s.AddressType, s.Ports)
		existing[k] = append(existing[k], s)
	}
	for _, k := range order {
		reconcileGroup(in.Endpoints, existing[k], groups[k], &plan)
	}
	for _, s := range sortedByName(in.Slices) {
		if groups[groupKey(s.AddressType, s.Ports)] == nil {
			plan.Delete = append(plan.Delete, s)
		}
	}
	recycle(&plan)
	if in.Endpoints.DeletionTimestamp != nil {
		plan.Create = nil
	}
	return plan
}

// desired groups the Endpoints' addresses, counting what it skips.
func desired(in Input, plan *Plan) (map[string]*group, []string) {
	groups := map[string]*group{}
	var order []string
	for _, ss := range endpointutil.RepackSubsets(in.Endpoints.Subsets) {
		ports := slicePorts(ss.Ports)
		added := 0
		add := func(addrs []corev1.EndpointAddress, ready bool) {
			for i := 0; i < len(addrs) && added < in.MaxEndpointsPerSubset; i++ {
				ep, t, ok := addressEndpoint(&addrs[i], ready)
				if !ok {
					plan.Invalid++
					continue
				}
				k := groupKey(t, ports)
				if groups[k] == nil {
					groups[k] = &group{t: t, ports: ports, endpoints: endpointutil.NewEndpointSet()}
					order = append(order, k)
				}
				groups[k].endpoints.Insert(ep)
				added++
			}
		}
		add(ss.Addresses, true)
		add(ss.NotReadyAddresses, false)
		plan.Skipped += len(ss.Addresses) + len(ss.NotReadyAddresses) - added
	}
	return groups, order
}

// reconcileGroup keeps one slice per group: the first existing one is
// rewritten if anything differs, the others deleted.
func reconcileGroup(ep *corev1.Endpoints, existing []*discoveryv1.EndpointSlice, g *group, plan *Plan) {
	if len(existing) > 0 {
		plan.Delete = append(plan.Delete, existing[1:]...)
		if upToDate(ep, existing[0], g.endpoints) {
			return
		}
	}
	s := newSlice(ep, g.t, g.ports)
	for g.endpoints.Len() > 0 {
		s.Endpoints = append(s.Endpoints, *g.endpoints.Pop())
	}
	if len(existing) == 0 {
		plan.Create = append(plan.Create, s)
		return
	}
	s.Name, s.GenerateName, s.ResourceVersion = existing[0].Name, "", existing[0].ResourceVersion
	plan.Update = append(plan.Update, s)
}

// upToDate reports whether a mirrored slice has exactly the desired
// endpoints, labels and annotations.
func upToDate(ep *corev1.Endpoints, s *discoveryv1.EndpointSlice, want *endpointutil.EndpointSet) bool {
	if len(s.Endpoints) != want.Len() {
		return false
	}
	for i := range s.Endpoints {
		got := want.Get(&s.Endpoints[i])
		if got == nil || !endpointutil.EndpointsEqualBeyondKey(got, &s.Endpoints[i]) {
			return false
		}
	}
	labels := maps.Clone(s.Labels)
	delete(labels, discoveryv1.LabelServiceName)
	delete(labels, discoveryv1.LabelManagedBy)
	return maps.Equal(labels, ep.Labels) && maps.Equal(s.Annotations, mirroredAnnotations(ep))
}

// addressEndpoint converts an Endpoints address; false for an invalid IP.
func addressEndpoint(a *corev1.EndpointAddress, ready bool) (*discoveryv1.Endpoint, discoveryv1.AddressType, bool) {
	ip, ok := endpointutil.ParseIP(a.IP)
	if !ok {
		return nil, "", false
	}
	ep := &discoveryv1.Endpoint{
		Addresses:  []string{ip.String()},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
		TargetRef:  a.TargetRef.DeepCopy(),
		NodeName:   clonePtr(a.NodeName),
	}
	if a.Hostname != "" {
		ep.Hostname = ptr.To(a.Hostname)
	}
	return ep, endpointutil.AddressTypeOf(ip), true
}

func slicePorts(ports []corev1.EndpointPort) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, discoveryv1.EndpointPort{
			Name: ptr.To(p.Name), Port: ptr.To(p.Port), Protocol: ptr.To(p.Protocol), AppProtocol: clonePtr(p.AppProtocol),
		})
	}
	return out
}

func groupKey(t discoveryv1.AddressType, ports []discoveryv1.EndpointPort) string {
	return string(t) + "|" + endpointutil.PortsKey(ports)
}

// recycle turns creates into updates of slices of the same address type
// that would be deleted.
func recycle(plan *Plan) {
	kept := plan.Delete[:0]
	for _, del := range plan.Delete {
		i := indexOfType(plan.Create, del.AddressType)
		if i < 0 {
			kept = append(kept, del)
			continue
		}
		s := plan.Create[i]
		plan.Create = append(plan.Create[:i], plan.Create[i+1:]...)
		s.Name, s.GenerateName, s.ResourceVersion = del.Name, "", del.ResourceVersion
		plan.Update = append(plan.Update, s)
	}
	plan.Delete = kept
}

func indexOfType(list []*discoveryv1.EndpointSlice, t discoveryv1.AddressType) int {
	for i, s := range list {
		if s.AddressType == t {
			return i
		}
	}
	return -1
}

func sortedByName(s []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := append([]*discoveryv1.EndpointSlice(nil), s...)
	endpointutil.SortSlicesByName(out)
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
