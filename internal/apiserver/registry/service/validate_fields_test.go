package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestValidateClusterIPs(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	require := corev1.IPFamilyPolicyRequireDualStack
	runValidate(t, []validateCase{
		{name: "valid dual-stack Service", svc: stored(dualStack), cfg: dualV4},
		{
			name: "clusterIPs[0] must match clusterIP",
			svc:  stored(func(s *corev1.Service) { s.Spec.ClusterIPs = []string{"10.96.0.11"} }),
			want: []string{`spec.clusterIPs: Invalid value: ["10.96.0.11"]: first value must match ` + "`clusterIP`"},
		}, {
			name: "clusterIPs is required with clusterIP",
			svc:  stored(func(s *corev1.Service) { s.Spec.ClusterIPs = nil }),
			want: []string{"spec.clusterIPs: Required value"},
		}, {
			name: "clusterIPs is empty without clusterIP",
			svc:  stored(func(s *corev1.Service) { s.Spec.ClusterIP = "" }),
			want: []string{`spec.clusterIPs: Invalid value: ["10.96.0.10"]: must be empty when ` + "`clusterIP`" + ` is not specified`},
		}, {
			name: "clusterIPs are IP addresses",
			svc:  stored(withClusterIPs("10.96.0.300")),
			want: []string{`spec.clusterIPs[0]: Invalid value: "10.96.0.300": ` + ipMsg},
		}, {
			name: "clusterIPs with leading zeros are tolerated as in 1.32",
			svc:  stored(withClusterIPs("10.096.0.10")),
		}, {
			name: "None is only allowed as the only clusterIP",
			svc:  stored(withClusterIPs("None", "fd00::10")),
			want: []string{`spec.clusterIPs: Invalid value: ["None","fd00::10"]: 'None' must be the first and only value`},
		}, {
			name: "at most two clusterIPs",
			svc:  stored(dualStack, withClusterIPs("10.96.0.10", "fd00::10", "10.96.0.11")),
			cfg:  dualV4,
			want: []string{`spec.clusterIPs: Invalid value: ["10.96.0.10","fd00::10","10.96.0.11"]: may only hold up to 2 values`},
		}, {
			name: "one clusterIP per family",
			svc:  stored(withClusterIPs("10.96.0.10", "10.96.0.11"), withFamilies(require, v4)),
			cfg:  dualV4,
			want: []string{`spec.clusterIPs: Invalid value: ["10.96.0.10","10.96.0.11"]: may specify no more than one IP for each IP family`},
		}, {
			name: "clusterIPs match ipFamilies",
			svc:  stored(dualStack, withFamilies(require, v6, v4)),
			cfg:  dualV4,
			want: []string{
				"spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`",
				"spec.clusterIPs[1]: Invalid value: \"fd00::10\": expected an IPv4 value as indicated by `ipFamilies[1]`",
			},
		}, {
			name: "ipFamilies are IPv4 or IPv6",
			svc:  stored(withFamilies(corev1.IPFamilyPolicySingleStack, "IPv5")),
			want: []string{`spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"`},
		}, {
			name: "ipFamilies are unique",
			svc:  stored(withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4, v4)),
			want: []string{`spec.ipFamilies[1]: Duplicate value: "IPv4"`},
		}, {
			name: "ipFamilyPolicy is one of the three",
			svc:  stored(withFamilies("Both", v4)),
			want: []string{`spec.ipFamilyPolicy: Unsupported value: "Both": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"`},
		},
	})
}

func TestValidateFamiliesForCluster(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	runValidate(t, []validateCase{
		{
			name: "RequireDualStack needs a dual-stack cluster",
			svc:  stored(dualStack),
			want: []string{
				`spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services`,
				`spec.ipFamilies[1]: Invalid value: "IPv6": not configured on this cluster`,
			},
		}, {
			name: "ipFamilies must be configured on the cluster",
			svc:  stored(withClusterIPs("fd00::10"), withFamilies(corev1.IPFamilyPolicySingleStack, v6)),
			want: []string{`spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`},
		}, {
			name: "SingleStack allows one family",
			svc:  stored(withFamilies(corev1.IPFamilyPolicySingleStack, v4, v6)),
			cfg:  dualV4,
			want: []string{`spec.ipFamilyPolicy: Invalid value: "SingleStack": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified`},
		}, {
			name: "headless without selector may list both families on a single-stack cluster",
			svc: stored(headless, withFamilies(corev1.IPFamilyPolicyRequireDualStack, v4, v6),
				func(s *corev1.Service) { s.Spec.Selector = nil }),
		},
	})
}

func TestValidateSessionAffinity(t *testing.T) {
	clientIP := func(timeout *int32) tweak {
		return func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: timeout}}
		}
	}
	runValidate(t, []validateCase{
		{name: "ClientIP with a timeout of one day", svc: stored(clientIP(ptrTo[int32](86400)))},
		{
			name: "sessionAffinity is required",
			svc:  stored(func(s *corev1.Service) { s.Spec.SessionAffinity = "" }),
			want: []string{"spec.sessionAffinity: Required value"},
		}, {
			name: "sessionAffinity is ClientIP or None",
			svc:  stored(func(s *corev1.Service) { s.Spec.SessionAffinity = "Cookie" }),
			want: []string{`spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"`},
		}, {
			name: "ClientIP timeout is at most 86400",
			svc:  stored(clientIP(ptrTo[int32](86401))),
			want: []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400"},
		}, {
			name: "ClientIP timeout is greater than 0",
			svc:  stored(clientIP(ptrTo[int32](0))),
			want: []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400"},
		}, {
			name: "ClientIP needs sessionAffinityConfig",
			svc:  stored(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }),
			want: []string{"spec.sessionAffinityConfig: Required value: when session affinity type is ClientIP"},
		}, {
			name: "ClientIP needs a timeout",
			svc:  stored(clientIP(nil)),
			want: []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Required value: when session affinity type is ClientIP"},
		}, {
			name: "None forbids sessionAffinityConfig",
			svc:  stored(clientIP(ptrTo[int32](60)), func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityNone }),
			want: []string{"spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None"},
		},
	})
}

func TestValidateExternalIPs(t *testing.T) {
	external := func(ips ...string) tweak {
		return func(s *corev1.Service) {
			s.Spec.ExternalIPs = ips
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}
	}
	runValidate(t, []validateCase{
		{name: "valid externalIPs", svc: stored(external("192.0.2.1", "2001:db8::1"))},
		{
			name: "externalIPs are IP addresses",
			svc:  stored(external("192.0.2")),
			want: []string{`spec.externalIPs[0]: Invalid value: "192.0.2": ` + ipMsg},
		}, {
			name: "externalIPs are not special addresses",
			svc:  stored(external("0.0.0.0", "127.0.0.1", "169.254.1.1", "224.0.0.1", "fe80::1", "::1")),
			want: []string{
				`spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)`,
				`spec.externalIPs[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
				`spec.externalIPs[2]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`,
				`spec.externalIPs[3]: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)`,
				`spec.externalIPs[4]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`,
				`spec.externalIPs[5]: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
			},
		},
	})
}

func TestValidateLoadBalancerFields(t *testing.T) {
	ranges := func(r ...string) tweak { return func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = r } }
	annotation := func(v string) tweak {
		return func(s *corev1.Service) {
			s.Annotations = map[string]string{"service.beta.kubernetes.io/load-balancer-source-ranges": v}
		}
	}
	class := func(c string) tweak { return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c } }
	runValidate(t, []validateCase{
		{name: "valid loadBalancerSourceRanges, space-padded", svc: stored(loadBalancer(30080), ranges(" 10.0.0.0/8 ", "2001:db8::/64"))},
		{name: "valid loadBalancerClass", svc: stored(loadBalancer(30080), class("example.com/lb"))},
		{
			name: "loadBalancerSourceRanges only for LoadBalancer",
			svc:  stored(ranges("10.0.0.0/8")),
			want: []string{"spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"},
		}, {
			name: "loadBalancerSourceRanges are CIDRs",
			svc:  stored(loadBalancer(30080), ranges("10.0.0.0/33")),
			want: []string{`spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": ` + cidrMsg},
		}, {
			name: "source ranges annotation only for LoadBalancer, and CIDRs",
			svc:  stored(annotation(" 10.0.0.0/8, nope ")),
			want: []string{
				"metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'",
				`metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: "nope": ` + cidrMsg,
			},
		}, {
			name: "source ranges annotation is ignored when the field is set",
			svc:  stored(loadBalancer(30080), ranges("10.0.0.0/8"), annotation("nope")),
		}, {
			name: "allocateLoadBalancerNodePorts only for LoadBalancer",
			svc:  stored(nodePortType(30080), func(s *corev1.Service) { s.Spec.AllocateLoadBalancerNodePorts = ptrTo(true) }),
			want: []string{"spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"},
		}, {
			name: "allocateLoadBalancerNodePorts is required for LoadBalancer",
			svc:  stored(loadBalancer(30080), func(s *corev1.Service) { s.Spec.AllocateLoadBalancerNodePorts = nil }),
			want: []string{"allocateLoadBalancerNodePorts: Required value"},
		}, {
			name: "loadBalancerClass only for LoadBalancer",
			svc:  stored(class("example.com/lb")),
			want: []string{"spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"},
		}, {
			name: "loadBalancerClass is a qualified name",
			svc:  stored(loadBalancer(30080), class("example.com/-lb")),
			want: []string{`spec.loadBalancerClass: Invalid value: "example.com/-lb": ` + nameMsg},
		},
	})
}

func TestValidateTrafficPolicies(t *testing.T) {
	etp := func(p corev1.ServiceExternalTrafficPolicy) tweak {
		return func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = p }
	}
	itp := func(p *corev1.ServiceInternalTrafficPolicy) tweak {
		return func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = p }
	}
	td := func(v string) tweak { return func(s *corev1.Service) { s.Spec.TrafficDistribution = &v } }
	runValidate(t, []validateCase{
		{name: "internalTrafficPolicy Local", svc: stored(itp(ptrTo(corev1.ServiceInternalTrafficPolicyLocal)))},
		{name: "trafficDistribution PreferSameNode", svc: stored(td("PreferSameNode"))},
		{name: "trafficDistribution PreferClose", svc: stored(td("PreferClose"))},
		{
			name: "externalTrafficPolicy only for externally-accessible Services",
			svc:  stored(etp(corev1.ServiceExternalTrafficPolicyLocal)),
			want: []string{`spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services`},
		}, {
			name: "externalTrafficPolicy is required for NodePort",
			svc:  stored(nodePortType(30080), etp("")),
			want: []string{"spec.externalTrafficPolicy: Required value"},
		}, {
			name: "externalTrafficPolicy is Cluster or Local",
			svc:  stored(nodePortType(30080), etp("Global")),
			want: []string{`spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"`},
		}, {
			name: "healthCheckNodePort only for LoadBalancer with Local",
			svc:  stored(nodePortType(30080), localTraffic(30100)),
			want: []string{"spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"},
		}, {
			name: "healthCheckNodePort is required for LoadBalancer with Local",
			svc:  stored(loadBalancer(30080), localTraffic(0)),
			want: []string{"spec.healthCheckNodePort: Required value"},
		}, {
			name: "healthCheckNodePort is a port number",
			svc:  stored(loadBalancer(30080), localTraffic(70000)),
			want: []string{"spec.healthCheckNodePort: Invalid value: 70000: " + portRangeMsg},
		}, {
			name: "internalTrafficPolicy is required",
			svc:  stored(itp(nil)),
			want: []string{"spec.internalTrafficPolicy: Required value"},
		}, {
			name: "internalTrafficPolicy is not required for ExternalName",
			svc:  stored(externalName("db.example.com"), itp(nil)),
		}, {
			name: "internalTrafficPolicy is Cluster or Local",
			svc:  stored(itp(ptrTo[corev1.ServiceInternalTrafficPolicy]("Node"))),
			want: []string{`spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"`},
		}, {
			name: "trafficDistribution is a known preference",
			svc:  stored(td("Random")),
			want: []string{`spec.trafficDistribution: Unsupported value: "Random": supported values: "PreferClose", "PreferSameNode", "PreferSameZone"`},
		},
	})
}

func TestValidateStatusUpdate(t *testing.T) {
	ingress := func(ing ...corev1.LoadBalancerIngress) tweak {
		return func(s *corev1.Service) { s.Status.LoadBalancer.Ingress = ing }
	}
	vip := ptrTo(corev1.LoadBalancerIPModeVIP)
	tests := []validateCase{
		{name: "valid ingress", svc: stored(loadBalancer(30080), ingress(corev1.LoadBalancerIngress{IP: "192.0.2.1", IPMode: vip}, corev1.LoadBalancerIngress{Hostname: "lb.example.com"}))},
		{
			name: "ingress only for LoadBalancer",
			svc:  stored(ingress(corev1.LoadBalancerIngress{IP: "192.0.2.1", IPMode: vip})),
			want: []string{"status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"},
		}, {
			name: "ingress ip needs an ipMode",
			svc:  stored(loadBalancer(30080), ingress(corev1.LoadBalancerIngress{IP: "192.0.2.1"})),
			want: []string{"status.loadBalancer.ingress[0].ipMode: Required value: must be specified when `ip` is set"},
		}, {
			name: "ingress ipMode needs an ip",
			svc:  stored(loadBalancer(30080), ingress(corev1.LoadBalancerIngress{Hostname: "lb.example.com", IPMode: vip})),
			want: []string{"status.loadBalancer.ingress[0].ipMode: Forbidden: may not be specified when `ip` is not set"},
		}, {
			name: "ingress ipMode is VIP or Proxy",
			svc:  stored(loadBalancer(30080), ingress(corev1.LoadBalancerIngress{IP: "192.0.2.1", IPMode: ptrTo[corev1.LoadBalancerIPMode]("Magic")})),
			want: []string{`status.loadBalancer.ingress[0].ipMode: Unsupported value: "Magic": supported values: "Proxy", "VIP"`},
		}, {
			name: "ingress ip is an IP address and hostname a DNS name",
			svc:  stored(loadBalancer(30080), ingress(corev1.LoadBalancerIngress{IP: "192.0.2", IPMode: vip}, corev1.LoadBalancerIngress{Hostname: "192.0.2.1"})),
			want: []string{
				`status.loadBalancer.ingress[0].ip: Invalid value: "192.0.2": ` + ipMsg,
				`status.loadBalancer.ingress[1].hostname: Invalid value: "192.0.2.1": must be a DNS name, not an IP address`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, ValidateStatusUpdate(tt.svc, stored()), tt.want)
		})
	}
}
