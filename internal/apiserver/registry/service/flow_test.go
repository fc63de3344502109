package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fakeAllocate stands in for the allocator: one fixed IP per family, node
// ports from 30080 up, health check port 30100.
func fakeAllocate(svc *corev1.Service) {
	if needsClusterIP(svc) && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		ips := map[corev1.IPFamily]string{corev1.IPv4Protocol: "10.96.0.10", corev1.IPv6Protocol: "fd00::10"}
		for i, fam := range svc.Spec.IPFamilies {
			if i >= len(svc.Spec.ClusterIPs) {
				svc.Spec.ClusterIPs = append(svc.Spec.ClusterIPs, ips[fam])
			}
		}
		svc.Spec.ClusterIP = svc.Spec.ClusterIPs[0]
	}
	next := int32(30080)
	for i := range svc.Spec.Ports {
		if needsNodePort(svc) && svc.Spec.Ports[i].NodePort == 0 {
			svc.Spec.Ports[i].NodePort = next
			next++
		}
	}
	if needsHealthCheck(svc) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = 30100
	}
}

// create runs the REST layer's create sequence.
func create(t *testing.T, svc *corev1.Service, cfg Config) *corev1.Service {
	t.Helper()
	Default(svc)
	if errs := BeginCreate(svc, cfg); len(errs) != 0 {
		t.Fatalf("BeginCreate: %v", errs)
	}
	fakeAllocate(svc)
	PrepareForCreate(svc)
	if errs := Validate(svc, cfg); len(errs) != 0 {
		t.Fatalf("Validate: %v", errs)
	}
	return svc
}

// update runs the REST layer's update sequence and returns the errors of
// the step that failed.
func update(svc, old *corev1.Service, cfg Config) field.ErrorList {
	Default(svc)
	if errs := BeginUpdate(svc, old, cfg); len(errs) != 0 {
		return errs
	}
	fakeAllocate(svc)
	PrepareForUpdate(svc, old)
	return ValidateUpdate(svc, old, cfg)
}

func TestFlowReapplyManifest(t *testing.T) {
	for name, m := range map[string]*corev1.Service{
		"ClusterIP":                 manifest(),
		"NodePort with two ports":   manifest(nodePortType(0), twoNodePorts(0, 0)),
		"LoadBalancer with Local":   manifest(loadBalancer(0), localTraffic(0)),
		"dual-stack PreferDual":     manifest(withFamilies(corev1.IPFamilyPolicyPreferDualStack)),
		"headless":                  manifest(func(s *corev1.Service) { s.Spec.ClusterIP = "None" }),
		"ExternalName":              manifest(withPorts(), externalName("db.example.com")),
		"ClusterIP with ClientIP":   manifest(func(s *corev1.Service) { s.Spec.SessionAffinity = "ClientIP" }),
		"headless without selector": manifest(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Selector = "None", nil }),
	} {
		t.Run(name, func(t *testing.T) {
			old := create(t, m.DeepCopy(), dualV4)
			svc := m.DeepCopy()
			checkErrors(t, update(svc, old, dualV4), nil)
			if !equality.Semantic.DeepEqual(svc.Spec, old.Spec) {
				t.Errorf("re-apply changed the spec:\n got %+v\nwant %+v", svc.Spec, old.Spec)
			}
		})
	}
}

func TestFlowTypeChanges(t *testing.T) {
	edit := func(f tweak) func(*corev1.Service) *corev1.Service {
		return func(old *corev1.Service) *corev1.Service { s := old.DeepCopy(); f(s); return s }
	}
	tests := []struct {
		name   string
		stored *corev1.Service
		change func(*corev1.Service) *corev1.Service
		errs   []string
		check  func(*testing.T, *corev1.Service)
	}{{
		name:   "ExternalName to ClusterIP (conformance)",
		stored: manifest(withPorts(), externalName("db.example.com")),
		change: edit(func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeClusterIP, ""
			s.Spec.Ports = manifest().Spec.Ports
		}),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.ClusterIP != "10.96.0.10" || policyOf(s) != corev1.IPFamilyPolicySingleStack {
				t.Errorf("got %s", familiesOf(s))
			}
		},
	}, {
		name:   "ExternalName to NodePort (conformance)",
		stored: manifest(withPorts(), externalName("db.example.com")),
		change: edit(func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeNodePort, ""
			s.Spec.Ports = manifest().Spec.Ports
		}),
		check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.Ports[0].NodePort == 0 || s.Spec.ExternalTrafficPolicy != "Cluster" {
				t.Errorf("nodePort %d, externalTrafficPolicy %q", s.Spec.Ports[0].NodePort, s.Spec.ExternalTrafficPolicy)
			}
		},
	}, {
		name:   "ClusterIP to ExternalName (conformance)",
		stored: manifest(),
		change: edit(externalNameEdit),
		check:  wantNoClusterIPFields,
	}, {
		name:   "ClusterIP to ExternalName clearing only clusterIP (e2e client)",
		stored: manifest(),
		change: edit(func(s *corev1.Service) {
			externalNameEdit(s)
			s.Spec.ClusterIP = ""
		}),
		check: wantNoClusterIPFields,
	}, {
		name:   "NodePort to ExternalName (conformance)",
		stored: manifest(nodePortType(0)),
		change: edit(externalNameEdit),
		check: func(t *testing.T, s *corev1.Service) {
			wantNoClusterIPFields(t, s)
			if s.Spec.Ports[0].NodePort != 0 || s.Spec.ExternalTrafficPolicy != "" {
				t.Errorf("nodePort %d, externalTrafficPolicy %q", s.Spec.Ports[0].NodePort, s.Spec.ExternalTrafficPolicy)
			}
		},
	}, {
		name:   "ClusterIP to headless is rejected",
		stored: manifest(),
		change: edit(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"} }),
		errs:   []string{`spec.clusterIPs[0]: Invalid value: ["None"]: may not change once set`},
	}, {
		name:   "headless to ClusterIP by dropping clusterIP keeps it headless, as upstream",
		stored: manifest(func(s *corev1.Service) { s.Spec.ClusterIP = "None" }),
		change: func(*corev1.Service) *corev1.Service { return manifest() },
		check: func(t *testing.T, s *corev1.Service) {
			if !isHeadless(s) {
				t.Errorf("got %s", familiesOf(s))
			}
		},
	}, {
		name:   "changing clusterIP is rejected",
		stored: manifest(),
		change: edit(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.11" }),
		errs:   []string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := create(t, tt.stored, singleV4)
			svc := tt.change(old)
			checkErrors(t, update(svc, old, singleV4), tt.errs)
			if tt.check != nil {
				tt.check(t, svc)
			}
		})
	}
}

func externalNameEdit(s *corev1.Service) {
	s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "db.example.com"
}

func wantNoClusterIPFields(t *testing.T, s *corev1.Service) {
	t.Helper()
	if s.Spec.ClusterIP != "" || s.Spec.ClusterIPs != nil || s.Spec.IPFamilies != nil || s.Spec.IPFamilyPolicy != nil {
		t.Errorf("clusterIP fields left: %s", familiesOf(s))
	}
}
