package endpointslice

import (
	"cmp"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// Input is what a Service's EndpointSlices are computed from.
type Input struct {
	// Service has a selector and is not ExternalName.
	Service *corev1.Service
	// Pods are those the Service's selector matches.
	Pods []*corev1.Pod
	// Slices are the existing slices this controller manages for the
	// Service (labels service-name and managed-by), none pending deletion.
	Slices []*discoveryv1.EndpointSlice
	// Nodes holds the Nodes the pods run on, by name. A pod whose Node is
	// missing is left out (unless the Service publishes not-ready
	// addresses) and its node named in Plan.MissingNodes.
	Nodes map[string]*corev1.Node
	// MaxEndpointsPerSlice caps the endpoints of one slice.
	MaxEndpointsPerSlice int
	// TriggerTime is the last-change-trigger-time written on created and
	// updated slices (zero removes it).
	TriggerTime time.Time
}

// Plan is the writes that bring the slices in line.
type Plan struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
	// MissingNodes are Nodes pods named that do not exist.
	MissingNodes []string
}

// Writes is the number of API writes the plan makes.
func (p Plan) Writes() int { return len(p.Create) + len(p.Update) + len(p.Delete) }

func (p *Plan) add(o Plan) {
	p.Create = append(p.Create, o.Create...)
	p.Update = append(p.Update, o.Update...)
	p.Delete = append(p.Delete, o.Delete...)
}

// Reconcile computes the slice writes for one Service: one set of slices
// per address type the Service has, each slice holding endpoints that
// share a port list, at most MaxEndpointsPerSlice of them; a placeholder
// slice without endpoints when there are none; slices of other address
// types, or not owned by the Service, deleted. Nothing is created for a
// Service being deleted.
func Reconcile(in Input) Plan {
	types := endpointutil.AddressTypes(in.Service)
	byType := map[discoveryv1.AddressType][]*discoveryv1.EndpointSlice{}
	var plan Plan
	for _, s := range sortedByName(in.Slices) {
		if slices.Contains(types, s.AddressType) {
			byType[s.AddressType] = append(byType[s.AddressType], s)
		} else {
			plan.Delete = append(plan.Delete, s)
		}
	}
	missing := map[string]bool{}
	for _, t := range types {
		groups, order := desiredGroups(in, t, missing)
		plan.add(reconcileType(in, t, byType[t], groups, order))
	}
	plan.MissingNodes = slices.Sorted(maps.Keys(missing))
	if in.Service.DeletionTimestamp != nil {
		plan.Create = nil
	}
	for _, s := range slices.Concat(plan.Create, plan.Update) {
		s.Annotations = maps.Clone(s.Annotations)
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		endpointutil.SetTriggerTime(s.Annotations, in.TriggerTime)
	}
	return plan
}

// desiredGroups returns the desired endpoints of address type t grouped
// by port list, and the port-list keys in order of first appearance.
func desiredGroups(in Input, t discoveryv1.AddressType, missing map[string]bool) (map[string]*portGroup, []string) {
	groups := map[string]*portGroup{}
	var order []string
	for _, pod := range sortedPods(in.Pods) {
		if !endpointutil.ShouldPodBeInEndpoints(pod, true) {
			continue
		}
		node, ok := in.Nodes[pod.Spec.NodeName]
		if !ok && !in.Service.Spec.PublishNotReadyAddresses {
			missing[pod.Spec.NodeName] = true
			continue
		}
		ep, ok := podEndpoint(in.Service, pod, node, t)
		if !ok {
			continue
		}
		ports := endpointPorts(in.Service, pod)
		key := endpointutil.PortsKey(ports)
		if groups[key] == nil {
			groups[key] = &portGroup{ports: ports, endpoints: endpointutil.NewEndpointSet()}
			order = append(order, key)
		}
		groups[key].endpoints.Insert(&ep)
	}
	return groups, order
}

// reconcileType plans the slices of one address type.
func reconcileType(in Input, t discoveryv1.AddressType, existing []*discoveryv1.EndpointSlice,
	groups map[string]*portGroup, order []string) Plan {
	var plan Plan
	byKey := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		if ownedBy(s, in.Service) {
			k := endpointutil.PortsKey(s.Ports)
			byKey[k] = append(byKey[k], s)
		} else {
			plan.Delete = append(plan.Delete, s)
		}
	}
	for _, k := range order {
		f := filler{svc: in.Service, t: t, max: in.MaxEndpointsPerSlice}
		plan.add(f.run(byKey[k], groups[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		if groups[k] == nil {
			plan.Delete = append(plan.Delete, byKey[k]...)
		}
	}
	placeholder(in.Service, t, len(existing), &plan)
	recycle(in.Service, &plan)
	return plan
}

// placeholder keeps exactly one empty slice when the address type would
// otherwise have none.
func placeholder(svc *corev1.Service, t discoveryv1.AddressType, existing int, plan *Plan) {
	if existing != len(plan.Delete) || len(plan.Create) > 0 {
		return
	}
	p := newSlice(svc, t, []discoveryv1.EndpointPort{})
	if len(plan.Delete) == 1 && samePlaceholder(plan.Delete[0], p) {
		plan.Delete = nil
		return
	}
	plan.Create = append(plan.Create, p)
}

func sortedPods(pods []*corev1.Pod) []*corev1.Pod {
	out := slices.Clone(pods)
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func sortedByName(s []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := slices.Clone(s)
	endpointutil.SortSlicesByName(out)
	return out
}
