package service

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func nodePorts(s *corev1.Service) string {
	out := ""
	for _, p := range s.Spec.Ports {
		out += fmt.Sprintf("%s:%d ", p.Name, p.NodePort)
	}
	return out + fmt.Sprintf("hc:%d", s.Spec.HealthCheckNodePort)
}

func twoNodePorts(a, b int32) tweak {
	return func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{
			{Name: "http", Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(80), NodePort: a},
			{Name: "https", Port: 443, Protocol: "TCP", TargetPort: intstr.FromInt32(443), NodePort: b},
		}
	}
}

func TestPatchAllocatedValues(t *testing.T) {
	tests := []struct {
		name     string
		old, svc *corev1.Service
		want     string
		wantIP   string
	}{{
		name: "omitted nodePorts are kept by port name",
		old:  stored(nodePortType(0), twoNodePorts(30080, 30443)),
		svc:  manifest(nodePortType(0), twoNodePorts(0, 0)),
		want: "http:30080 https:30443 hc:0", wantIP: "10.96.0.10",
	}, {
		name: "a nodePort taken by another port is not copied",
		old:  stored(nodePortType(0), twoNodePorts(30080, 30443)),
		svc:  manifest(nodePortType(0), twoNodePorts(0, 30080)),
		want: "http:0 https:30080 hc:0", wantIP: "10.96.0.10",
	}, {
		name: "given nodePorts win",
		old:  stored(nodePortType(0), twoNodePorts(30080, 30443)),
		svc:  manifest(nodePortType(0), twoNodePorts(31080, 0)),
		want: "http:31080 https:30443 hc:0", wantIP: "10.96.0.10",
	}, {
		name: "healthCheckNodePort is kept while LoadBalancer with Local",
		old:  stored(loadBalancer(30080), localTraffic(30100)),
		svc:  manifest(loadBalancer(0), localTraffic(0)),
		want: ":30080 hc:30100", wantIP: "10.96.0.10",
	}, {
		name: "healthCheckNodePort is not kept when Local is dropped",
		old:  stored(loadBalancer(30080), localTraffic(30100)),
		svc:  manifest(loadBalancer(0)),
		want: ":30080 hc:0", wantIP: "10.96.0.10",
	}, {
		name: "nodePorts are not kept for ClusterIP",
		old:  stored(nodePortType(30080)),
		svc:  manifest(),
		want: ":0 hc:0", wantIP: "10.96.0.10",
	}, {
		name: "clusterIP is not kept for ExternalName",
		old:  stored(),
		svc:  manifest(withType(corev1.ServiceTypeExternalName)),
		want: ":0 hc:0", wantIP: "",
	}, {
		name: "a given clusterIP is not replaced",
		old:  stored(),
		svc:  manifest(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.11" }),
		want: ":0 hc:0", wantIP: "10.96.0.11",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			PatchAllocatedValues(tt.svc, tt.old)
			if got := nodePorts(tt.svc); got != tt.want {
				t.Errorf("ports %q, want %q", got, tt.want)
			}
			if tt.svc.Spec.ClusterIP != tt.wantIP {
				t.Errorf("clusterIP %q, want %q", tt.svc.Spec.ClusterIP, tt.wantIP)
			}
		})
	}
}

func TestNormalizeClusterIPs(t *testing.T) {
	ips := func(ip string, ips ...string) tweak {
		return func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, ips }
	}
	tests := []struct {
		name     string
		old, svc *corev1.Service
		want     string
	}{
		{name: "create: clusterIPs from clusterIP", svc: manifest(ips("10.96.0.11")), want: `"10.96.0.11" ["10.96.0.11"]`},
		{name: "create: both given are left to validation", svc: manifest(ips("10.96.0.11", "10.96.0.12")), want: `"10.96.0.11" ["10.96.0.12"]`},
		{name: "create: clusterIPs alone is left to validation", svc: manifest(ips("", "10.96.0.12")), want: `"" ["10.96.0.12"]`},
		{name: "update: omitted clusterIPs kept", old: stored(dualStack), svc: stored(ips("10.96.0.10")), want: `"10.96.0.10" ["10.96.0.10" "fd00::10"]`},
		{name: "update: clearing clusterIP clears unchanged clusterIPs", old: stored(), svc: stored(ips("", "10.96.0.10")), want: `"" []`},
		{name: "update: changing only clusterIP replaces clusterIPs", old: stored(), svc: stored(ips("10.96.0.11", "10.96.0.10")), want: `"10.96.0.11" ["10.96.0.11"]`},
		{name: "update: changing both is left to validation", old: stored(), svc: stored(ips("10.96.0.11", "10.96.0.12")), want: `"10.96.0.11" ["10.96.0.12"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NormalizeClusterIPs(tt.svc, tt.old)
			if got := fmt.Sprintf("%q %q", tt.svc.Spec.ClusterIP, tt.svc.Spec.ClusterIPs); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDropTypeDependentFields(t *testing.T) {
	class := func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptrTo("example.com/lb") }
	lbStatus := func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: ptrTo(corev1.LoadBalancerIPModeVIP)}}
	}
	tests := []struct {
		name     string
		old, svc *corev1.Service
		check    func(*testing.T, *corev1.Service)
	}{{
		name: "to ExternalName drops unchanged clusterIPs, ipFamilies and ipFamilyPolicy",
		old:  stored(), svc: stored(withType(corev1.ServiceTypeExternalName)),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.ClusterIP != "" || s.Spec.ClusterIPs != nil || s.Spec.IPFamilies != nil || s.Spec.IPFamilyPolicy != nil {
				t.Errorf("left: %s", familiesOf(s))
			}
		},
	}, {
		name: "to ExternalName keeps a changed clusterIP for validation",
		old:  stored(), svc: stored(withType(corev1.ServiceTypeExternalName), withClusterIPs("10.96.0.11")),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.ClusterIP != "10.96.0.11" || s.Spec.IPFamilies != nil {
				t.Errorf("got: %s", familiesOf(s))
			}
		},
	}, {
		name: "to ClusterIP drops unchanged nodePorts and externalTrafficPolicy",
		old:  stored(nodePortType(30080)), svc: stored(nodePortType(30080), withType(corev1.ServiceTypeClusterIP)),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.Ports[0].NodePort != 0 || s.Spec.ExternalTrafficPolicy != "" {
				t.Errorf("nodePort %d, externalTrafficPolicy %q", s.Spec.Ports[0].NodePort, s.Spec.ExternalTrafficPolicy)
			}
		},
	}, {
		name: "to ClusterIP keeps a new nodePort for validation",
		old:  stored(nodePortType(30080)), svc: stored(nodePortType(30081), withType(corev1.ServiceTypeClusterIP)),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.Ports[0].NodePort != 30081 {
				t.Errorf("nodePort %d, want 30081", s.Spec.Ports[0].NodePort)
			}
		},
	}, {
		name: "to NodePort drops LoadBalancer fields and status, keeps externalTrafficPolicy",
		old:  stored(loadBalancer(30080), localTraffic(30100), class, lbStatus),
		svc:  stored(loadBalancer(30080), localTraffic(30100), class, lbStatus, withType(corev1.ServiceTypeNodePort)),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.HealthCheckNodePort != 0 || s.Spec.AllocateLoadBalancerNodePorts != nil || s.Spec.LoadBalancerClass != nil {
				t.Errorf("LoadBalancer fields left: hc %d, alloc %v, class %v", s.Spec.HealthCheckNodePort, s.Spec.AllocateLoadBalancerNodePorts, s.Spec.LoadBalancerClass)
			}
			if len(s.Status.LoadBalancer.Ingress) != 0 {
				t.Errorf("status.loadBalancer left: %+v", s.Status.LoadBalancer)
			}
			wantETP(t, s, corev1.ServiceExternalTrafficPolicyLocal)
		},
	}, {
		name: "Local to Cluster drops the unchanged healthCheckNodePort",
		old:  stored(loadBalancer(30080), localTraffic(30100)),
		svc:  stored(loadBalancer(30080), localTraffic(30100), func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Cluster" }),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.HealthCheckNodePort != 0 {
				t.Errorf("healthCheckNodePort %d, want 0", s.Spec.HealthCheckNodePort)
			}
		},
	}, {
		name: "removing externalIPs drops externalTrafficPolicy",
		old: stored(func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.0.2.1"}
			s.Spec.ExternalTrafficPolicy = "Cluster"
		}),
		svc:   stored(func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Cluster" }),
		check: func(t *testing.T, s *corev1.Service) { wantETP(t, s, "") },
	}, {
		name: "selector is never dropped",
		old:  stored(), svc: stored(externalName("db.example.com")),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.Selector["app"] != "web" {
				t.Errorf("selector dropped")
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			DropTypeDependentFields(tt.svc, tt.old)
			tt.check(t, tt.svc)
		})
	}
}
