package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		want []string
	}{{
		name: "none for a plain Service",
		svc:  stored(),
	}, {
		name: "externalName on a non-ExternalName Service",
		svc:  stored(func(s *corev1.Service) { s.Spec.ExternalName = "db.example.com" }),
		want: []string{`spec.externalName is ignored when spec.type is not "ExternalName"`},
	}, {
		name: "externalIPs are deprecated",
		svc:  stored(func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1"} }),
		want: []string{"spec.externalIPs is deprecated and may no longer be implemented in some clusters"},
	}, {
		name: "externalIPs on ExternalName are ignored",
		svc:  stored(externalName("db.example.com"), func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1"} }),
		want: []string{`spec.externalIPs is ignored when spec.type is "ExternalName"`},
	}, {
		name: "headless ignores loadBalancerIP, externalIPs and session affinity",
		svc: stored(headless, func(s *corev1.Service) {
			s.Spec.LoadBalancerIP = "192.0.2.2"
			s.Spec.ExternalIPs = []string{"192.0.2.1"}
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		}),
		want: []string{
			"spec.loadBalancerIP is ignored for headless services",
			"spec.externalIPs is ignored for headless services",
			"spec.SessionAffinity is ignored for headless services",
		},
	}, {
		name: "non-standard clusterIPs",
		svc:  stored(withClusterIPs("010.096.000.010", "FD00:0:0:0:0:0:0:10")),
		want: []string{
			`spec.clusterIPs[0]: non-standard IP address "010.096.000.010" is invalid: use "10.96.0.10"`,
			`spec.clusterIPs[1]: IPv6 address "FD00:0:0:0:0:0:0:10" should be in RFC 5952 canonical format ("fd00::10")`,
		},
	}, {
		name: "ambiguous loadBalancerSourceRanges",
		svc:  stored(loadBalancer(30080), func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.1/8"} }),
		want: []string{`spec.loadBalancerSourceRanges[0]: CIDR value "10.0.0.1/8" is ambiguous in this context (should be "10.0.0.0/8" or "10.0.0.1/32"?)`},
	}, {
		name: "topology-aware-hints annotation is deprecated",
		svc: stored(func(s *corev1.Service) {
			s.Annotations = map[string]string{"service.kubernetes.io/topology-aware-hints": "Auto"}
		}),
		want: []string{"annotation service.kubernetes.io/topology-aware-hints is deprecated, please use service.kubernetes.io/topology-mode instead"},
	}, {
		name: "trafficDistribution PreferClose is deprecated",
		svc:  stored(func(s *corev1.Service) { s.Spec.TrafficDistribution = ptrTo("PreferClose") }),
		want: []string{`spec.trafficDistribution: "PreferClose" is deprecated; use "PreferSameZone"`},
	}, {
		name: "unparsable values get no warning",
		svc:  stored(func(s *corev1.Service) { s.Spec.LoadBalancerIP = "not-an-ip" }),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStrings(t, "warnings", Warnings(tt.svc, nil), tt.want)
		})
	}
}

func TestStatusWarnings(t *testing.T) {
	svc := stored(loadBalancer(30080), func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {IP: "2001:DB8::1"}}
	})
	checkStrings(t, "warnings", StatusWarnings(svc), []string{
		`status.loadBalancer.ingress[1]: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")`,
	})
}
