package proxy

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// State is the desired state of one IP family on one node: what a backend
// programs.
type State struct {
	Family  corev1.IPFamily
	Node    Node
	Options Options
	// Services holds every programmed service port, sorted by name and
	// protocol.
	Services []*ServiceState
	// Full asks the backend to rewrite everything; otherwise it may rewrite
	// only the service ports in Changed (which also names ports that no
	// longer exist) and what dispatches to them.
	Full    bool
	Changed map[ServicePortName]bool
}

// ServiceState is one service port with its endpoints sorted by use.
type ServiceState struct {
	*ServicePort
	Categorized
}

// Service returns the service port named n, or nil.
func (s *State) Service(n ServicePortName) *ServiceState {
	i := sort.Search(len(s.Services), func(i int) bool { return !lessName(s.Services[i].Name, n) })
	if i < len(s.Services) && s.Services[i].Name == n {
		return s.Services[i]
	}
	return nil
}

// Input is what Build turns into a State.
type Input struct {
	Family    corev1.IPFamily
	Node      Node
	Options   Options
	Services  map[ServicePortName]*ServicePort
	Endpoints EndpointsMap
	Full      bool
	Changed   map[ServicePortName]bool
	// Previous, when set and Full is false, lends its categorized
	// endpoints to the service ports that did not change.
	Previous *State
}

// Build computes the desired state: every service port with its endpoints
// categorized for the node. It is pure.
func Build(in Input) *State {
	st := &State{
		Family:   in.Family,
		Node:     in.Node,
		Options:  in.Options,
		Full:     in.Full,
		Changed:  in.Changed,
		Services: make([]*ServiceState, 0, len(in.Services)),
	}
	reuse := in.Previous != nil && !in.Full
	for name, sp := range in.Services {
		if reuse && !in.Changed[name] {
			if prev := in.Previous.Service(name); prev != nil && prev.ServicePort == sp {
				st.Services = append(st.Services, prev)
				continue
			}
		}
		st.Services = append(st.Services, &ServiceState{
			ServicePort: sp,
			Categorized: Categorize(in.Endpoints[name], sp, in.Node),
		})
	}
	sort.Slice(st.Services, func(i, j int) bool { return lessName(st.Services[i].Name, st.Services[j].Name) })
	return st
}

func lessName(a, b ServicePortName) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	return a.Protocol < b.Protocol
}

func sortEndpoints(eps []Endpoint) {
	sort.Slice(eps, func(i, j int) bool { return eps[i].String() < eps[j].String() })
}
