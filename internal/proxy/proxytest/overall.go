// Package proxytest holds the fixed Services, EndpointSlices and packet
// cases every proxy backend is tested with: the set of kube-proxy's
// TestOverallIPTablesRules, so golden rules can be compared with
// kube-proxy's own.
package proxytest

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// The node the fixtures run on.
const (
	NodeName = "test-node"
	NodeIP   = "192.168.0.2"
)

// Node is the fixtures' node.
func Node() proxy.Node {
	return proxy.Node{Name: NodeName, IPs: []netip.Addr{netip.MustParseAddr(NodeIP)}}
}

// Options are the fixtures' settings: cluster CIDR 10.0.0.0/8, NodePorts on
// every local address.
func Options() proxy.Options {
	return proxy.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, MasqueradeBit: 14}
}

// OverallServices are six Services: ns1 ClusterIP with one endpoint; ns2
// LoadBalancer with externalTrafficPolicy Local, an external IP and a
// health check port, whose endpoint is not local; ns3 NodePort; ns4
// NodePort with an external IP and two endpoints (one local); ns5
// LoadBalancer with a source range and ClientIP affinity; ns6 ClusterIP
// without endpoints.
func OverallServices() []*corev1.Service {
	return []*corev1.Service{
		service("ns1", "svc1", "172.30.0.41", func(s *corev1.Service) {}),
		service("ns2", "svc2", "172.30.0.42", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.Ports[0].NodePort = 3001
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
			s.Spec.ExternalIPs = []string{"192.168.99.22"}
			s.Spec.HealthCheckNodePort = 30000
		}),
		service("ns3", "svc3", "172.30.0.43", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 3003
		}),
		service("ns4", "svc4", "172.30.0.44", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ExternalIPs = []string{"192.168.99.33"}
		}),
		service("ns5", "svc5", "172.30.0.45", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
			s.Spec.Ports[0].NodePort = 3002
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "5.6.7.8"}}
			s.Spec.HealthCheckNodePort = 30000
			s.Spec.LoadBalancerSourceRanges = []string{" 203.0.113.0/25"}
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10800)}}
		}),
		service("ns6", "svc6", "172.30.0.46", func(s *corev1.Service) {}),
	}
}

// OverallSlices are the fixtures' EndpointSlices.
func OverallSlices() []*discoveryv1.EndpointSlice {
	return []*discoveryv1.EndpointSlice{
		slice("ns1", "svc1", endpoint("10.180.0.1", "")),
		slice("ns2", "svc2", endpoint("10.180.0.2", "")),
		slice("ns3", "svc3", endpoint("10.180.0.3", "")),
		slice("ns4", "svc4", endpoint("10.180.0.4", ""), endpoint("10.180.0.5", NodeName)),
		slice("ns5", "svc5", endpoint("10.180.0.3", "")),
	}
}

// OverallState is the full State of the fixtures for IPv4.
func OverallState() *proxy.State {
	return State(OverallServices(), OverallSlices())
}

// State builds the full IPv4 State of services and slices on the
// fixtures' node with the fixtures' options.
func State(services []*corev1.Service, slices []*discoveryv1.EndpointSlice) *proxy.State {
	in := proxy.Input{
		Family:    corev1.IPv4Protocol,
		Node:      Node(),
		Options:   Options(),
		Services:  map[proxy.ServicePortName]*proxy.ServicePort{},
		Endpoints: proxy.EndpointsMap{},
		Full:      true,
	}
	for _, svc := range services {
		for _, sp := range proxy.ServicePorts(svc, corev1.IPv4Protocol) {
			in.Services[sp.Name] = sp
		}
	}
	bySvc := map[types.NamespacedName][]*discoveryv1.EndpointSlice{}
	for _, s := range slices {
		nn := types.NamespacedName{Namespace: s.Namespace, Name: s.Labels[discoveryv1.LabelServiceName]}
		bySvc[nn] = append(bySvc[nn], s)
	}
	for nn, ss := range bySvc {
		for name, eps := range proxy.SliceEndpoints(nn, ss, NodeName) {
			in.Endpoints[name] = eps
		}
	}
	return proxy.Build(in)
}

// OverallCases are packets through the fixtures' rules, the same in every
// mode. The source 10.0.0.2 is a pod; 192.168.0.2 is the node itself;
// 192.168.0.5 and 203.0.113.x are outside the cluster.
func OverallCases() []tracer.Case {
	ep := func(out string, masq bool) tracer.Result { return tracer.Result{Output: out, Masq: masq} }
	return []tracer.Case{
		{Name: "pod to cluster IP", Src: "10.0.0.2", Dst: "172.30.0.41", Port: 80, Want: ep("10.180.0.1:80", false)},
		{Name: "outside to cluster IP", Src: "192.168.0.5", Dst: "172.30.0.41", Port: 80, Want: ep("10.180.0.1:80", true)},
		// Hairpin: a pod that may reach itself through a Service is
		// masqueraded. Only a pod of this node sends its packets to a
		// cluster IP through this node (10.180.0.5 is ns4's local
		// endpoint), but any pod may come in through an external entry
		// of a Local-policy Service unmasqueraded (ns2's 10.180.0.2 runs
		// on another node).
		{Name: "hairpin of a local endpoint to its cluster IP", Src: "10.180.0.5", Dst: "172.30.0.44", Port: 80, Want: ep("10.180.0.4:80, 10.180.0.5:80", true)},
		{Name: "hairpin of a remote endpoint to its local-policy external IP", Src: "10.180.0.2", Dst: "192.168.99.22", Port: 80, Want: ep("10.180.0.2:80", true)},
		{Name: "cluster IP without endpoints", Src: "10.0.0.2", Dst: "172.30.0.46", Port: 80, Want: ep(tracer.Reject, false)},
		{Name: "pod to cluster IP of local-policy service", Src: "10.0.0.2", Dst: "172.30.0.42", Port: 80, Want: ep("10.180.0.2:80", false)},
		{Name: "outside to external IP without local endpoints", Src: "192.168.0.5", Dst: "192.168.99.22", Port: 80, Want: ep(tracer.Drop, false)},
		{Name: "pod to external IP of local-policy service", Src: "10.0.0.2", Dst: "192.168.99.22", Port: 80, Want: ep("10.180.0.2:80", false)},
		{Name: "outside to LB IP without local endpoints", Src: "192.168.0.5", Dst: "1.2.3.4", Port: 80, Want: ep(tracer.Drop, false)},
		{Name: "outside to NodePort without local endpoints", Src: "192.168.0.5", Dst: NodeIP, Port: 3001, Want: ep(tracer.Drop, false)},
		{Name: "outside to NodePort", Src: "192.168.0.5", Dst: NodeIP, Port: 3003, Want: ep("10.180.0.3:80", true)},
		{Name: "pod to NodePort", Src: "10.0.0.2", Dst: NodeIP, Port: 3003, Want: ep("10.180.0.3:80", true)},
		{Name: "outside to external IP with two endpoints", Src: "192.168.0.5", Dst: "192.168.99.33", Port: 80, Want: ep("10.180.0.4:80, 10.180.0.5:80", true)},
		{Name: "pod to cluster IP with two endpoints", Src: "10.0.0.2", Dst: "172.30.0.44", Port: 80, Want: ep("10.180.0.4:80, 10.180.0.5:80", false)},
		{Name: "allowed source to LB IP with source ranges", Src: "203.0.113.1", Dst: "5.6.7.8", Port: 80, Want: ep("10.180.0.3:80", true)},
		{Name: "other source to LB IP with source ranges", Src: "203.0.113.200", Dst: "5.6.7.8", Port: 80, Want: ep(tracer.Drop, false)},
		{Name: "NodePort ignores source ranges", Src: "203.0.113.200", Dst: NodeIP, Port: 3002, Want: ep("10.180.0.3:80", true)},
		{Name: "node to NodePort of local-policy service", Src: NodeIP, Dst: NodeIP, Port: 3001, Want: ep("10.180.0.2:80", true)},
	}
}

func service(ns, name, ip string, mutate func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeClusterIP,
			ClusterIP:  ip,
			ClusterIPs: []string{ip},
			Ports:      []corev1.ServicePort{{Name: "p80", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	mutate(s)
	return s
}

func slice(ns, svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: svc + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("p80"), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
}

func endpoint(ip, node string) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}}
	if node != "" {
		e.NodeName = ptr.To(node)
	}
	return e
}
