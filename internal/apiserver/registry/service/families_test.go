package service

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// familiesOf renders the fields BeginCreate/BeginUpdate set.
func familiesOf(s *corev1.Service) string {
	policy := "<nil>"
	if s.Spec.IPFamilyPolicy != nil {
		policy = string(*s.Spec.IPFamilyPolicy)
	}
	return fmt.Sprintf("policy=%s families=%v clusterIP=%q clusterIPs=%q", policy, s.Spec.IPFamilies, s.Spec.ClusterIP, s.Spec.ClusterIPs)
}

func TestBeginCreate(t *testing.T) {
	v6 := corev1.IPv6Protocol
	noSelector := func(s *corev1.Service) { s.Spec.Selector = nil }
	clusterIP := func(ip string) tweak { return func(s *corev1.Service) { s.Spec.ClusterIP = ip } }
	tests := []struct {
		name string
		in   *corev1.Service
		cfg  Config
		want string
		errs []string
	}{{
		name: "SingleStack with the primary family by default",
		in:   manifest(), cfg: singleV4,
		want: `policy=SingleStack families=[IPv4] clusterIP="" clusterIPs=[]`,
	}, {
		name: "primary family of an IPv6 cluster",
		in:   manifest(), cfg: singleV6,
		want: `policy=SingleStack families=[IPv6] clusterIP="" clusterIPs=[]`,
	}, {
		name: "empty Config means IPv4",
		in:   manifest(), cfg: Config{},
		want: `policy=SingleStack families=[IPv4] clusterIP="" clusterIPs=[]`,
	}, {
		name: "PreferDualStack gets both families on a dual-stack cluster",
		in:   manifest(withFamilies(corev1.IPFamilyPolicyPreferDualStack)), cfg: dualV4,
		want: `policy=PreferDualStack families=[IPv4 IPv6] clusterIP="" clusterIPs=[]`,
	}, {
		name: "PreferDualStack gets one family on a single-stack cluster",
		in:   manifest(withFamilies(corev1.IPFamilyPolicyPreferDualStack)), cfg: singleV4,
		want: `policy=PreferDualStack families=[IPv4] clusterIP="" clusterIPs=[]`,
	}, {
		name: "RequireDualStack follows the cluster's primary family",
		in:   manifest(withFamilies(corev1.IPFamilyPolicyRequireDualStack)), cfg: dualV6,
		want: `policy=RequireDualStack families=[IPv6 IPv4] clusterIP="" clusterIPs=[]`,
	}, {
		name: "RequireDualStack on a single-stack cluster is rejected",
		in:   manifest(withFamilies(corev1.IPFamilyPolicyRequireDualStack)), cfg: singleV4,
		errs: []string{`spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services`},
	}, {
		name: "requested family first",
		in:   manifest(withFamilies(corev1.IPFamilyPolicyPreferDualStack, v6)), cfg: dualV4,
		want: `policy=PreferDualStack families=[IPv6 IPv4] clusterIP="" clusterIPs=[]`,
	}, {
		name: "requested family must be configured",
		in:   manifest(withFamilies("", v6)), cfg: singleV4,
		errs: []string{`spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`},
	}, {
		name: "family inferred from a requested clusterIP, clusterIPs from clusterIP",
		in:   manifest(clusterIP("fd00::10")), cfg: dualV4,
		want: `policy=SingleStack families=[IPv6] clusterIP="fd00::10" clusterIPs=["fd00::10"]`,
	}, {
		name: "requested clusterIP of an unconfigured family is rejected",
		in:   manifest(clusterIP("fd00::10")), cfg: singleV4,
		errs: []string{`spec.clusterIPs[0]: Invalid value: ["fd00::10"]: IPv6 is not configured on this cluster`},
	}, {
		name: "SingleStack with two clusterIPs is rejected",
		in:   manifest(withClusterIPs("10.96.0.10", "fd00::10"), withFamilies(corev1.IPFamilyPolicySingleStack)), cfg: dualV4,
		errs: []string{`spec.ipFamilyPolicy: Invalid value: "SingleStack": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified`},
	}, {
		name: "invalid clusterIPs are reported before anything else",
		in:   manifest(withClusterIPs("10.96.0.300"), withFamilies(corev1.IPFamilyPolicyRequireDualStack)), cfg: singleV4,
		errs: []string{`spec.clusterIPs[0]: Invalid value: "10.96.0.300": ` + ipMsg},
	}, {
		name: "headless with selector is SingleStack",
		in:   manifest(clusterIP("None")), cfg: dualV4,
		want: `policy=SingleStack families=[IPv4] clusterIP="None" clusterIPs=["None"]`,
	}, {
		name: "headless without selector is RequireDualStack on a dual-stack cluster",
		in:   manifest(clusterIP("None"), noSelector), cfg: dualV6,
		want: `policy=RequireDualStack families=[IPv6 IPv4] clusterIP="None" clusterIPs=["None"]`,
	}, {
		name: "headless without selector is RequireDualStack even on a single-stack cluster",
		in:   manifest(clusterIP("None"), noSelector), cfg: singleV4,
		want: `policy=RequireDualStack families=[IPv4 IPv6] clusterIP="None" clusterIPs=["None"]`,
	}, {
		name: "headless without selector may ask for SingleStack",
		in:   manifest(clusterIP("None"), noSelector, withFamilies(corev1.IPFamilyPolicySingleStack)), cfg: dualV4,
		want: `policy=SingleStack families=[IPv4] clusterIP="None" clusterIPs=["None"]`,
	}, {
		name: "ExternalName gets nothing",
		in:   manifest(withType(corev1.ServiceTypeExternalName)), cfg: dualV4,
		want: `policy=<nil> families=[] clusterIP="" clusterIPs=[]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := tt.in.DeepCopy()
			Default(svc)
			errs := BeginCreate(svc, tt.cfg)
			checkErrors(t, errs, tt.errs)
			if len(tt.errs) == 0 {
				if got := familiesOf(svc); got != tt.want {
					t.Errorf("got  %s\nwant %s", got, tt.want)
				}
			}
		})
	}
}

func TestBeginUpdate(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	preferDual := withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4, v6)
	tests := []struct {
		name     string
		old, svc *corev1.Service
		cfg      Config
		want     string
		errs     []string
	}{{
		name: "re-applied manifest keeps allocated clusterIP and families",
		old:  stored(), svc: manifest(), cfg: singleV4,
		want: `policy=SingleStack families=[IPv4] clusterIP="10.96.0.10" clusterIPs=["10.96.0.10"]`,
	}, {
		name: "re-applied manifest keeps a dual-stack policy",
		old:  stored(dualStack), svc: manifest(), cfg: dualV4,
		want: `policy=RequireDualStack families=[IPv4 IPv6] clusterIP="10.96.0.10" clusterIPs=["10.96.0.10" "fd00::10"]`,
	}, {
		name: "SingleStack drops the unchanged secondary clusterIP and family",
		old:  stored(dualStack), svc: stored(dualStack, withFamilies(corev1.IPFamilyPolicySingleStack, v4, v6)), cfg: dualV4,
		want: `policy=SingleStack families=[IPv4] clusterIP="10.96.0.10" clusterIPs=["10.96.0.10"]`,
	}, {
		name: "dropping the secondary clusterIP requires SingleStack",
		old:  stored(dualStack, preferDual), svc: stored(dualStack, preferDual, withClusterIPs("10.96.0.10")), cfg: dualV4,
		errs: []string{`spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be 'SingleStack' to release the secondary cluster IP`},
	}, {
		name: "dropping the secondary family requires SingleStack",
		old:  stored(dualStack, preferDual), svc: stored(withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4)), cfg: dualV4,
		errs: []string{
			`spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be 'SingleStack' to release the secondary cluster IP`,
			`spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be 'SingleStack' to release the secondary IP family`,
		},
	}, {
		name: "upgrade to PreferDualStack adds the second family",
		old:  stored(), svc: stored(withFamilies(corev1.IPFamilyPolicyPreferDualStack, v4)), cfg: dualV4,
		want: `policy=PreferDualStack families=[IPv4 IPv6] clusterIP="10.96.0.10" clusterIPs=["10.96.0.10"]`,
	}, {
		name: "unchanged PreferDualStack is not re-derived after the cluster became single-stack",
		old:  stored(dualStack, preferDual), svc: stored(dualStack, preferDual), cfg: singleV4,
		want: `policy=PreferDualStack families=[IPv4 IPv6] clusterIP="10.96.0.10" clusterIPs=["10.96.0.10" "fd00::10"]`,
	}, {
		name: "ExternalName to ClusterIP gets families for allocation",
		old:  stored(externalName("db.example.com")), svc: manifest(), cfg: singleV4,
		want: `policy=SingleStack families=[IPv4] clusterIP="" clusterIPs=[]`,
	}, {
		name: "ClusterIP to ExternalName keeps what the client sent for validation",
		old:  stored(), svc: manifest(withType(corev1.ServiceTypeExternalName)), cfg: singleV4,
		want: `policy=<nil> families=[] clusterIP="" clusterIPs=[]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, old := tt.svc.DeepCopy(), tt.old.DeepCopy()
			Default(svc)
			checkErrors(t, BeginUpdate(svc, old, tt.cfg), tt.errs)
			if len(tt.errs) == 0 {
				if got := familiesOf(svc); got != tt.want {
					t.Errorf("got  %s\nwant %s", got, tt.want)
				}
			}
			if got, want := familiesOf(old), familiesOf(tt.old); got != want {
				t.Errorf("old modified: %s, was %s", got, want)
			}
		})
	}
}

func TestBeginUpdateDoesNotShareSlicesWithOld(t *testing.T) {
	old := stored(dualStack)
	svc := manifest()
	Default(svc)
	if errs := BeginUpdate(svc, old, dualV4); len(errs) != 0 {
		t.Fatal(errs)
	}
	svc.Spec.ClusterIPs[1] = "fd00::99"
	if old.Spec.ClusterIPs[1] != "fd00::10" {
		t.Errorf("old clusterIPs changed through the new object: %v", old.Spec.ClusterIPs)
	}
}
