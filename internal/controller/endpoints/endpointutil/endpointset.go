package endpointutil

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// EndpointKey identifies an endpoint across syncs by its addresses,
// hostname and the object it points to, so that a change of anything else
// (conditions, zone, node) updates it in place.
func EndpointKey(ep *discoveryv1.Endpoint) string {
	var b strings.Builder
	addrs := slices.Clone(ep.Addresses)
	slices.Sort(addrs)
	b.WriteString(strings.Join(addrs, ","))
	b.WriteByte('|')
	if ep.Hostname != nil {
		b.WriteString(*ep.Hostname)
	}
	if ref := ep.TargetRef; ref != nil {
		fmt.Fprintf(&b, "|%s/%s", ref.Namespace, ref.Name)
	}
	return b.String()
}

// EndpointsEqualBeyondKey compares what EndpointKey leaves out: node,
// zone, conditions, hints, and the target (ignoring its resourceVersion).
func EndpointsEqualBeyondKey(a, b *discoveryv1.Endpoint) bool {
	return equalPtr(a.NodeName, b.NodeName) && equalPtr(a.Zone, b.Zone) &&
		equalPtr(a.Conditions.Ready, b.Conditions.Ready) &&
		equalPtr(a.Conditions.Serving, b.Conditions.Serving) &&
		equalPtr(a.Conditions.Terminating, b.Conditions.Terminating) &&
		equality.Semantic.DeepEqual(a.Hints, b.Hints) &&
		equalRefs(a.TargetRef, b.TargetRef)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalRefs(a, b *corev1.ObjectReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.ResourceVersion, y.ResourceVersion = "", ""
	return x == y
}

// PortsKey identifies a list of endpoint ports regardless of order; nil
// and empty lists are the same.
func PortsKey(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprintf("%s/%s/%d/%s", deref(p.Name), deref(p.Protocol), deref(p.Port), deref(p.AppProtocol))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// EndpointSet is a set of endpoints keyed by EndpointKey that hands its
// members out in insertion order, so reconciles are deterministic.
type EndpointSet struct {
	order []string
	next  int
	byKey map[string]*discoveryv1.Endpoint
}

// NewEndpointSet returns an empty set.
func NewEndpointSet() *EndpointSet {
	return &EndpointSet{byKey: map[string]*discoveryv1.Endpoint{}}
}

// Insert adds ep, replacing an endpoint with the same key.
func (s *EndpointSet) Insert(ep *discoveryv1.Endpoint) {
	k := EndpointKey(ep)
	if _, ok := s.byKey[k]; !ok {
		s.order = append(s.order, k)
	}
	s.byKey[k] = ep
}

// Take removes and returns the member with ep's key, or nil.
func (s *EndpointSet) Take(ep *discoveryv1.Endpoint) *discoveryv1.Endpoint {
	k := EndpointKey(ep)
	got := s.byKey[k]
	delete(s.byKey, k)
	return got
}

// Get returns the member with ep's key, or nil.
func (s *EndpointSet) Get(ep *discoveryv1.Endpoint) *discoveryv1.Endpoint {
	return s.byKey[EndpointKey(ep)]
}

// Len is the number of members.
func (s *EndpointSet) Len() int { return len(s.byKey) }

// Pop removes and returns the oldest member, or nil when empty.
func (s *EndpointSet) Pop() *discoveryv1.Endpoint {
	for s.next < len(s.order) {
		k := s.order[s.next]
		s.next++
		if ep, ok := s.byKey[k]; ok {
			delete(s.byKey, k)
			return ep
		}
	}
	return nil
}

// SortSlicesByName orders slices by name, for deterministic plans.
func SortSlicesByName(s []*discoveryv1.EndpointSlice) {
	slices.SortFunc(s, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
}
