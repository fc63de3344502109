package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestValidateUpdate(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	class := func(c string) tweak { return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c } }
	tests := []struct {
		name     string
		old, svc *corev1.Service
		cfg      Config
		want     []string
	}{{
		name: "unchanged Service",
		old:  stored(), svc: stored(),
	}, {
		name: "clusterIP may not change",
		old:  stored(), svc: stored(withClusterIPs("10.96.0.11")),
		want: []string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set`},
	}, {
		name: "ClusterIP to headless is rejected",
		old:  stored(), svc: stored(headless),
		want: []string{`spec.clusterIPs[0]: Invalid value: ["None"]: may not change once set`},
	}, {
		name: "headless to ClusterIP is rejected",
		old:  stored(headless), svc: stored(),
		want: []string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.10"]: may not change once set`},
	}, {
		name: "headless may change families",
		old:  stored(headless), svc: stored(headless, withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4, v6)),
		cfg: dualV4,
	}, {
		name: "primary clusterIP can not be unset",
		old:  stored(), svc: stored(withClusterIPs()),
		want: []string{"spec.clusterIPs[0]: Invalid value: null: primary clusterIP can not be unset"},
	}, {
		name: "secondary clusterIP and family may be added",
		old:  stored(), svc: stored(dualStack),
		cfg: dualV4,
	}, {
		name: "secondary clusterIP and family may be released with SingleStack",
		old:  stored(dualStack), svc: stored(),
		cfg: dualV4,
	}, {
		name: "releasing the secondary clusterIP and family requires SingleStack",
		old:  stored(dualStack), svc: stored(withFamilies(corev1.IPFamilyPolicyRequireDualStack, v4)),
		cfg: dualV4,
		want: []string{
			`spec.ipFamilyPolicy: Invalid value: "RequireDualStack": must be set to 'SingleStack' when releasing the secondary clusterIP`,
			`spec.ipFamilyPolicy: Invalid value: "RequireDualStack": must be set to 'SingleStack' when releasing the secondary ipFamily`,
		},
	}, {
		name: "primary clusterIP may not change when adding a secondary",
		old:  stored(), svc: stored(dualStack, withClusterIPs("10.96.0.11", "fd00::10")),
		cfg:  dualV4,
		want: []string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.11","fd00::10"]: may not change once set`},
	}, {
		name: "primary ipFamily may not change",
		old:  stored(), svc: stored(withFamilies(corev1.IPFamilyPolicySingleStack, v6)),
		cfg: dualV4,
		want: []string{
			`spec.ipFamilies[0]: Invalid value: ["IPv6"]: may not change once set`,
			"spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`",
		},
	}, {
		name: "ClusterIP to ExternalName skips the clusterIP rules",
		old:  stored(), svc: stored(externalName("db.example.com")),
	}, {
		name: "ExternalName to ClusterIP skips the clusterIP rules",
		old:  stored(externalName("db.example.com")), svc: stored(),
	}, {
		name: "loadBalancerClass may not change",
		old:  stored(loadBalancer(30080), class("example.com/a")), svc: stored(loadBalancer(30080), class("example.com/b")),
		want: []string{`spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set`},
	}, {
		name: "loadBalancerClass may not be added to a LoadBalancer",
		old:  stored(loadBalancer(30080)), svc: stored(loadBalancer(30080), class("example.com/b")),
		want: []string{`spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set`},
	}, {
		name: "loadBalancerClass may not be removed from a LoadBalancer",
		old:  stored(loadBalancer(30080), class("example.com/a")), svc: stored(loadBalancer(30080)),
		want: []string{"spec.loadBalancerClass: Invalid value: null: may not change once set"},
	}, {
		name: "loadBalancerClass may be set when changing to LoadBalancer",
		old:  stored(), svc: stored(loadBalancer(30080), class("example.com/b")),
	}, {
		name: "invalid loadBalancerClass is reported twice on update, as upstream",
		old:  stored(), svc: stored(loadBalancer(30080), class("-lb")),
		want: []string{
			`spec.loadBalancerClass: Invalid value: "-lb": ` + nameMsg,
			`spec.loadBalancerClass: Invalid value: "-lb": ` + nameMsg,
		},
	}, {
		name: "healthCheckNodePort is immutable",
		old:  stored(loadBalancer(30080), localTraffic(30100)), svc: stored(loadBalancer(30080), localTraffic(30101)),
		want: []string{"spec.healthCheckNodePort: Forbidden: field is immutable"},
	}, {
		name: "PreferDualStack left alone on a cluster that became single-stack",
		old:  stored(dualStack, withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4, v6)),
		svc:  stored(dualStack, withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4, v6)),
		cfg:  singleV4,
	}, {
		name: "RequireDualStack rejected on a cluster that became single-stack",
		old:  stored(dualStack), svc: stored(dualStack),
		cfg: singleV4,
		want: []string{
			`spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services`,
			`spec.ipFamilies[1]: Invalid value: "IPv6": not configured on this cluster`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.IPFamilies == nil {
				cfg = singleV4
			}
			checkErrors(t, ValidateUpdate(tt.svc, tt.old, cfg), tt.want)
		})
	}
}
