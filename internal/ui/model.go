// Package ui is svcplane's live view: a web page that draws each Service,
// its EndpointSlices, their pods, the proxy rules every node's kernel
// holds for it and the DNS names that answer for it. Informers keep the
// objects; Build joins them with the rules into a Model (a pure function,
// tested with tables); the server pushes the Model to the page over
// Server-Sent Events whenever it changes. Every asset is embedded.
package ui

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// Model is what the page draws.
type Model struct {
	Services []Service `json:"services"`
	Nodes    []Node    `json:"nodes"`
}

// Node is a node and how its rules were read.
type Node struct {
	Name      string   `json:"name"`
	Ready     bool     `json:"ready"`
	Addresses []string `json:"addresses,omitempty"`
	// Modes are the proxy modes whose rules its kernel holds.
	Modes []string `json:"modes,omitempty"`
	// RulesError says why its rules could not be read.
	RulesError string `json:"rulesError,omitempty"`
}

// Service is one Service with its slices and the rules for it.
type Service struct {
	Namespace    string   `json:"namespace"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	ClusterIPs   []string `json:"clusterIPs,omitempty"`
	Headless     bool     `json:"headless,omitempty"`
	ExternalName string   `json:"externalName,omitempty"`
	Ports        []string `json:"ports,omitempty"`
	DNS          []string `json:"dns,omitempty"`
	Slices       []Slice  `json:"slices"`
	// Pending are the pods the selector picks that no slice lists yet
	// (no address, not scheduled).
	Pending []string `json:"pending,omitempty"`
	// Rules are the ways that end at no endpoint of a slice (REJECT,
	// DROP, no rule at all).
	Rules []Way `json:"rules,omitempty"`
}

// Slice is one EndpointSlice.
type Slice struct {
	Name        string     `json:"name"`
	AddressType string     `json:"addressType"`
	Ports       []string   `json:"ports,omitempty"`
	Endpoints   []Endpoint `json:"endpoints"`
}

// Endpoint is one endpoint of a slice, with its pod's state.
type Endpoint struct {
	Addresses   []string `json:"addresses"`
	Pod         string   `json:"pod,omitempty"`
	PodPhase    string   `json:"podPhase,omitempty"`
	Node        string   `json:"node,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	Ready       bool     `json:"ready"`
	Serving     bool     `json:"serving"`
	Terminating bool     `json:"terminating"`
	DNS         []string `json:"dns,omitempty"`
	// Rules are the ways each node's rules send a new connection to the
	// Service here.
	Rules []Way `json:"rules,omitempty"`
}

// Way is one way a node's rules take a new connection to a Service port.
type Way struct {
	Node   string   `json:"node"`
	Mode   string   `json:"mode"`
	Port   string   `json:"port"`
	To     string   `json:"to"`
	Chance float64  `json:"chance"`
	Masq   bool     `json:"masq,omitempty"`
	Rules  []string `json:"rules"`
}

// Input is what Build joins.
type Input struct {
	Services []*corev1.Service
	Slices   []*discoveryv1.EndpointSlice
	Pods     []*corev1.Pod
	Nodes    []*corev1.Node
	// Rules are each node's rules, by node name.
	Rules map[string]NodeRules
	// Domain is the cluster's DNS domain.
	Domain string
}

// NodeRules are the proxy rules one node's kernel holds.
type NodeRules struct {
	Modes []ModeRules
	// Err says why they could not be read.
	Err error
}

// ModeRules are one proxy mode's rules, ready to follow packets through.
type ModeRules struct {
	Mode      string
	Explainer tracer.Explainer
}

// Build joins Services, their slices and pods, and the nodes' rules.
func Build(in Input) Model {
	m := Model{Services: []Service{}, Nodes: buildNodes(in)}
	for _, svc := range in.Services {
		m.Services = append(m.Services, buildService(in, svc))
	}
	slices.SortFunc(m.Services, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return m
}

func buildNodes(in Input) []Node {
	out := []Node{}
	for _, n := range in.Nodes {
		node := Node{Name: n.Name, Ready: nodeReady(n)}
		for _, a := range nodeAddrs(n) {
			node.Addresses = append(node.Addresses, a.String())
		}
		r, ok := in.Rules[n.Name]
		switch {
		case !ok:
			node.RulesError = "rules not read yet"
		case r.Err != nil:
			node.RulesError = r.Err.Error()
		}
		for _, mr := range r.Modes {
			node.Modes = append(node.Modes, mr.Mode)
		}
		out = append(out, node)
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeAddrs(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

func buildService(in Input, svc *corev1.Service) Service {
	out := Service{
		Namespace: svc.Namespace, Name: svc.Name, Type: string(svc.Spec.Type),
		Headless:     svc.Spec.ClusterIP == corev1.ClusterIPNone,
		ExternalName: svc.Spec.ExternalName,
		Slices:       []Slice{},
	}
	if out.Type == "" {
		out.Type = string(corev1.ServiceTypeClusterIP)
	}
	if !out.Headless {
		out.ClusterIPs = svc.Spec.ClusterIPs
		if len(out.ClusterIPs) == 0 && svc.Spec.ClusterIP != "" {
			out.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
	}
	for _, p := range svc.Spec.Ports {
		out.Ports = append(out.Ports, portText(p))
	}
	pods := podsByName(in.Pods, svc.Namespace)
	for _, sl := range serviceSlices(in.Slices, svc) {
		out.Slices = append(out.Slices, buildSlice(sl, pods))
	}
	out.Pending = pendingPods(in.Pods, svc, out.Slices)
	addDNS(&out, svc, in.Domain)
	addRules(&out, in, svc)
	return out
}

func portText(p corev1.ServicePort) string {
	s := strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol)
	if p.Name != "" {
		s = p.Name + " " + s
	}
	if p.TargetPort.String() != "" && p.TargetPort.String() != "0" {
		s += " -> " + p.TargetPort.String()
	}
	if p.NodePort != 0 {
		s += fmt.Sprintf(" (node port %d)", p.NodePort)
	}
	return s
}

func podsByName(pods []*corev1.Pod, ns string) map[string]*corev1.Pod {
	out := map[string]*corev1.Pod{}
	for _, p := range pods {
		if p.Namespace == ns {
			out[p.Name] = p
		}
	}
	return out
}

// serviceSlices are the slices labelled with the Service's name, by name.
func serviceSlices(all []*discoveryv1.EndpointSlice, svc *corev1.Service) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, sl := range all {
		if sl.Namespace == svc.Namespace && sl.Labels[discoveryv1.LabelServiceName] == svc.Name {
			out = append(out, sl)
		}
	}
	slices.SortFunc(out, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func buildSlice(sl *discoveryv1.EndpointSlice, pods map[string]*corev1.Pod) Slice {
	out := Slice{Name: sl.Name, AddressType: string(sl.AddressType), Endpoints: []Endpoint{}}
	for _, p := range sl.Ports {
		s := ""
		if p.Name != nil && *p.Name != "" {
			s = *p.Name + " "
		}
		if p.Port != nil {
			s += strconv.Itoa(int(*p.Port))
		}
		if p.Protocol != nil {
			s += "/" + string(*p.Protocol)
		}
		out.Ports = append(out.Ports, s)
	}
	for _, ep := range sl.Endpoints {
		out.Endpoints = append(out.Endpoints, buildEndpoint(ep, pods))
	}
	slices.SortFunc(out.Endpoints, func(a, b Endpoint) int {
		return cmp.Or(cmp.Compare(a.Pod, b.Pod), slices.Compare(a.Addresses, b.Addresses))
	})
	return out
}

func buildEndpoint(ep discoveryv1.Endpoint, pods map[string]*corev1.Pod) Endpoint {
	c := ep.Conditions
	out := Endpoint{
		Addresses:   append([]string{}, ep.Addresses...),
		Ready:       c.Ready == nil || *c.Ready,
		Serving:     c.Serving == nil && (c.Ready == nil || *c.Ready) || c.Serving != nil && *c.Serving,
		Terminating: c.Terminating != nil && *c.Terminating,
	}
	if ep.Hostname != nil {
		out.Hostname = *ep.Hostname
	}
	if ep.NodeName != nil {
		out.Node = *ep.NodeName
	}
	if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
		out.Pod = ep.TargetRef.Name
		if p, ok := pods[out.Pod]; ok {
			out.PodPhase = string(p.Status.Phase)
		}
	}
	return out
}

// pendingPods are the pods the Service selects that no slice lists.
func pendingPods(pods []*corev1.Pod, svc *corev1.Service, sls []Slice) []string {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	listed := map[string]bool{}
	for _, sl := range sls {
		for _, ep := range sl.Endpoints {
			listed[ep.Pod] = true
		}
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []string
	for _, p := range pods {
		if p.Namespace == svc.Namespace && !listed[p.Name] && sel.Matches(labels.Set(p.Labels)) &&
			p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}
