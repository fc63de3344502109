package printers

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func service(name string, typ corev1.ServiceType, mutate func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: objMeta(name, 5*time.Minute),
		Spec: corev1.ServiceSpec{
			Type:       typ,
			ClusterIP:  "10.96.0.10",
			ClusterIPs: []string{"10.96.0.10"},
			Ports:      []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}},
			Selector:   map[string]string{"app": name},
		},
	}
	if mutate != nil {
		mutate(svc)
	}
	return svc
}

func lbIngress(addrs ...string) corev1.LoadBalancerStatus {
	var s corev1.LoadBalancerStatus
	for _, a := range addrs {
		ing := corev1.LoadBalancerIngress{IP: a}
		if a[0] < '0' || a[0] > '9' {
			ing = corev1.LoadBalancerIngress{Hostname: a}
		}
		s.Ingress = append(s.Ingress, ing)
	}
	return s
}

func TestServiceRows(t *testing.T) {
	testRows(t, schema.GroupResource{Resource: "services"}, []rowCase{
		{"cluster ip", service("web", corev1.ServiceTypeClusterIP, nil),
			"web | ClusterIP | 10.96.0.10 | <none> | 80/TCP | 5m | app=web"},
		{"external ips", service("web", corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.0.2.1", "192.0.2.2"}
		}), "web | ClusterIP | 10.96.0.10 | 192.0.2.1,192.0.2.2 | 80/TCP | 5m | app=web"},
		{"headless, no ports, no selector", service("db", corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"}
			s.Spec.Ports, s.Spec.Selector = nil, nil
		}), "db | ClusterIP | None | <none> | <none> | 5m | <none>"},
		{"no cluster ips", service("x", corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIPs = nil
		}), "x | ClusterIP | <none> | <none> | 80/TCP | 5m | app=x"},
		{"dual stack shows the first", service("ds", corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"fd00::10", "10.96.0.10"}
		}), "ds | ClusterIP | fd00::10 | <none> | 80/TCP | 5m | app=ds"},
		{"node ports, sorted selector", service("np", corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{
				{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP},
				{Port: 53, NodePort: 30053, Protocol: corev1.ProtocolUDP},
				{Port: 9000, Protocol: corev1.ProtocolSCTP},
			}
			s.Spec.Selector = map[string]string{"tier": "front", "app": "np"}
		}), "np | NodePort | 10.96.0.10 | <none> | 80:30080/TCP,53:30053/UDP,9000/SCTP | 5m | app=np,tier=front"},
		{"load balancer pending", service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.Ports[0].NodePort = 31000
		}), "lb | LoadBalancer | 10.96.0.10 | <pending> | 80:31000/TCP | 5m | app=lb"},
		{"load balancer ingress sorted, deduplicated, not clipped", service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer = lbIngress("203.0.113.20", "lb.example.com", "203.0.113.10", "203.0.113.20")
		}), "lb | LoadBalancer | 10.96.0.10 | 203.0.113.10,203.0.113.20,lb.example.com | 80/TCP | 5m | app=lb"},
		{"load balancer ingress then external ips", service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer = lbIngress("203.0.113.10")
			s.Spec.ExternalIPs = []string{"192.0.2.1"}
		}), "lb | LoadBalancer | 10.96.0.10 | 203.0.113.10,192.0.2.1 | 80/TCP | 5m | app=lb"},
		{"load balancer external ips only", service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.0.2.1"}
		}), "lb | LoadBalancer | 10.96.0.10 | 192.0.2.1 | 80/TCP | 5m | app=lb"},
		{"external name", service("ext", corev1.ServiceTypeExternalName, func(s *corev1.Service) {
			s.Spec.ExternalName = "db.example.com"
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports, s.Spec.Selector = "", nil, nil, nil
		}), "ext | ExternalName | <none> | db.example.com | <none> | 5m | <none>"},
		{"no type", service("odd", "", nil),
			"odd |  | 10.96.0.10 | <unknown> | 80/TCP | 5m | app=odd"},
	})
}

func endpoints(addrs []string, ports ...int32) corev1.EndpointSubset {
	var ss corev1.EndpointSubset
	for _, a := range addrs {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: a})
	}
	for _, p := range ports {
		ss.Ports = append(ss.Ports, corev1.EndpointPort{Port: p, Protocol: corev1.ProtocolTCP})
	}
	return ss
}

func podIPs(n int) []string {
	ips := make([]string, n)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.244.0.%d", i+1)
	}
	return ips
}

func TestEndpointsRows(t *testing.T) {
	ep := func(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
		return &corev1.Endpoints{ObjectMeta: objMeta("web", 2*time.Hour), Subsets: subsets}
	}
	notReady := corev1.EndpointSubset{
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.244.0.9"}},
		Ports:             []corev1.EndpointPort{{Port: 80}},
	}
	testRows(t, schema.GroupResource{Resource: "endpoints"}, []rowCase{
		{"no subsets", ep(), "web | <none> | 120m"},
		{"one", ep(endpoints(podIPs(1), 8080)), "web | 10.244.0.1:8080 | 120m"},
		{"three", ep(endpoints(podIPs(3), 8080)), "web | 10.244.0.1:8080,10.244.0.2:8080,10.244.0.3:8080 | 120m"},
		{"five", ep(endpoints(podIPs(5), 8080)), "web | 10.244.0.1:8080,10.244.0.2:8080,10.244.0.3:8080 + 2 more... | 120m"},
		{"two ports count each address twice", ep(endpoints(podIPs(2), 80, 443)),
			"web | 10.244.0.1:80,10.244.0.2:80,10.244.0.1:443 + 1 more... | 120m"},
		{"headless without ports", ep(endpoints(podIPs(2))), "web | 10.244.0.1,10.244.0.2 | 120m"},
		{"ipv6", ep(endpoints([]string{"fd00::1"}, 80)), "web | [fd00::1]:80 | 120m"},
		{"only not ready addresses", ep(notReady), "web |  | 120m"},
		{"several subsets", ep(endpoints(podIPs(2), 80), endpoints([]string{"10.244.1.1", "10.244.1.2"}, 81)),
			"web | 10.244.0.1:80,10.244.0.2:80,10.244.1.1:81 + 1 more... | 120m"},
	})
}

func TestEndpointSliceRows(t *testing.T) {
	slice := func(addrType discoveryv1.AddressType, ports []discoveryv1.EndpointPort, addrs ...[]string) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{ObjectMeta: objMeta("web-abc12", 90*time.Second), AddressType: addrType, Ports: ports}
		for _, a := range addrs {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: a})
		}
		return s
	}
	port := func(p int32) discoveryv1.EndpointPort { return discoveryv1.EndpointPort{Port: ptr(p)} }
	named := discoveryv1.EndpointPort{Name: ptr("http")}
	testRows(t, schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}, []rowCase{
		{"empty", slice(discoveryv1.AddressTypeIPv4, nil), "web-abc12 | IPv4 | <unset> | <unset> | 90s"},
		{"one", slice(discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port(80)}, []string{"10.244.0.1"}),
			"web-abc12 | IPv4 | 80 | 10.244.0.1 | 90s"},
		{"five endpoints, four ports", slice(discoveryv1.AddressTypeIPv4,
			[]discoveryv1.EndpointPort{port(80), port(443), named, {}},
			podIPs(2), podIPs(5)[2:]),
			"web-abc12 | IPv4 | 80,443,http + 1 more... | 10.244.0.1,10.244.0.2,10.244.0.3 + 2 more... | 90s"},
		{"port without number or name", slice(discoveryv1.AddressTypeIPv6, []discoveryv1.EndpointPort{{}}, []string{"fd00::1"}),
			"web-abc12 | IPv6 | * | fd00::1 | 90s"},
		{"fqdn", slice(discoveryv1.AddressTypeFQDN, []discoveryv1.EndpointPort{port(443)}, []string{"example.com"}),
			"web-abc12 | FQDN | 443 | example.com | 90s"},
	})
}
