package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDefault(t *testing.T) {
	cluster := corev1.ServiceInternalTrafficPolicyCluster
	tests := []struct {
		name  string
		in    tweak
		check func(*testing.T, *corev1.Service)
	}{{
		name: "type ClusterIP, affinity None, internalTrafficPolicy Cluster",
		in:   func(*corev1.Service) {},
		check: func(t *testing.T, s *corev1.Service) {
			want := corev1.ServiceSpec{
				Selector:              map[string]string{"app": "web"},
				Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}},
				Type:                  corev1.ServiceTypeClusterIP,
				SessionAffinity:       corev1.ServiceAffinityNone,
				InternalTrafficPolicy: &cluster,
			}
			if !equality.Semantic.DeepEqual(s.Spec, want) {
				t.Errorf("spec:\n got %+v\nwant %+v", s.Spec, want)
			}
		},
	}, {
		name: "port protocol TCP and targetPort = port when zero",
		in: withPorts(corev1.ServicePort{Name: "a", Port: 53},
			corev1.ServicePort{Name: "b", Port: 54, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("")},
			corev1.ServicePort{Name: "c", Port: 55, TargetPort: intstr.FromString("dns")}),
		check: func(t *testing.T, s *corev1.Service) {
			want := []corev1.ServicePort{
				{Name: "a", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "b", Port: 54, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(54)},
				{Name: "c", Port: 55, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns")},
			}
			if !equality.Semantic.DeepEqual(s.Spec.Ports, want) {
				t.Errorf("ports:\n got %+v\nwant %+v", s.Spec.Ports, want)
			}
		},
	}, {
		name: "ClientIP affinity gets timeoutSeconds 10800",
		in:   func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP },
		check: func(t *testing.T, s *corev1.Service) {
			if got := *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds; got != 10800 {
				t.Errorf("timeoutSeconds = %d, want 10800", got)
			}
		},
	}, {
		name: "ClientIP affinity keeps a given timeout",
		in: func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptrTo[int32](60)}}
		},
		check: func(t *testing.T, s *corev1.Service) {
			if got := *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds; got != 60 {
				t.Errorf("timeoutSeconds = %d, want 60", got)
			}
		},
	}, {
		name: "None affinity clears sessionAffinityConfig",
		in: func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptrTo[int32](60)}}
		},
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.SessionAffinityConfig != nil {
				t.Errorf("sessionAffinityConfig = %+v, want nil", s.Spec.SessionAffinityConfig)
			}
		},
	}, {
		name: "NodePort gets externalTrafficPolicy Cluster",
		in:   withType(corev1.ServiceTypeNodePort),
		check: func(t *testing.T, s *corev1.Service) {
			wantETP(t, s, corev1.ServiceExternalTrafficPolicyCluster)
			if s.Spec.AllocateLoadBalancerNodePorts != nil {
				t.Errorf("allocateLoadBalancerNodePorts set for NodePort")
			}
		},
	}, {
		name:  "ClusterIP with externalIPs gets externalTrafficPolicy Cluster",
		in:    func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1"} },
		check: func(t *testing.T, s *corev1.Service) { wantETP(t, s, corev1.ServiceExternalTrafficPolicyCluster) },
	}, {
		name:  "ClusterIP keeps externalTrafficPolicy empty",
		in:    func(*corev1.Service) {},
		check: func(t *testing.T, s *corev1.Service) { wantETP(t, s, "") },
	}, {
		name: "LoadBalancer gets allocateLoadBalancerNodePorts true and ingress ipMode VIP",
		in: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {Hostname: "lb.example.com"}}
		},
		check: func(t *testing.T, s *corev1.Service) {
			wantETP(t, s, corev1.ServiceExternalTrafficPolicyCluster)
			if a := s.Spec.AllocateLoadBalancerNodePorts; a == nil || !*a {
				t.Errorf("allocateLoadBalancerNodePorts = %v, want true", a)
			}
			ing := s.Status.LoadBalancer.Ingress
			if ing[0].IPMode == nil || *ing[0].IPMode != corev1.LoadBalancerIPModeVIP || ing[1].IPMode != nil {
				t.Errorf("ingress ipModes = %v, %v; want VIP, nil", ing[0].IPMode, ing[1].IPMode)
			}
		},
	}, {
		name: "LoadBalancer keeps allocateLoadBalancerNodePorts false",
		in: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.AllocateLoadBalancerNodePorts = ptrTo(false)
		},
		check: func(t *testing.T, s *corev1.Service) {
			if *s.Spec.AllocateLoadBalancerNodePorts {
				t.Errorf("allocateLoadBalancerNodePorts = true, want false")
			}
		},
	}, {
		name: "ExternalName gets no traffic policies",
		in:   func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName },
		check: func(t *testing.T, s *corev1.Service) {
			wantETP(t, s, "")
			if s.Spec.InternalTrafficPolicy != nil {
				t.Errorf("internalTrafficPolicy = %v, want nil", *s.Spec.InternalTrafficPolicy)
			}
		},
	}, {
		name: "ipFamilies and ipFamilyPolicy are left to BeginCreate",
		in:   func(*corev1.Service) {},
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.IPFamilies != nil || s.Spec.IPFamilyPolicy != nil || s.Spec.ClusterIPs != nil {
				t.Errorf("families/policy/clusterIPs set by Default: %v %v %v", s.Spec.IPFamilies, s.Spec.IPFamilyPolicy, s.Spec.ClusterIPs)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := manifest(tt.in)
			Default(svc)
			tt.check(t, svc)
		})
	}
}

func wantETP(t *testing.T, s *corev1.Service, want corev1.ServiceExternalTrafficPolicy) {
	t.Helper()
	if s.Spec.ExternalTrafficPolicy != want {
		t.Errorf("externalTrafficPolicy = %q, want %q", s.Spec.ExternalTrafficPolicy, want)
	}
}
