package service

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	singleV4 = Config{IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}}
	singleV6 = Config{IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol}}
	dualV4   = Config{IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}}
	dualV6   = Config{IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}}
)

type tweak func(*corev1.Service)

// manifest is what a client sends: one port, a selector, nothing else.
func manifest(tweaks ...tweak) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	for _, t := range tweaks {
		t(svc)
	}
	return svc
}

// stored is a valid ClusterIP Service as the server stores it: defaulted,
// with families and an allocated IP; tweaks apply last.
func stored(tweaks ...tweak) *corev1.Service {
	svc := manifest()
	Default(svc)
	svc.Spec.ClusterIP = "10.96.0.10"
	svc.Spec.ClusterIPs = []string{"10.96.0.10"}
	svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	svc.Spec.IPFamilyPolicy = policyPtr(corev1.IPFamilyPolicySingleStack)
	for _, t := range tweaks {
		t(svc)
	}
	return svc
}

func withType(t corev1.ServiceType) tweak {
	return func(s *corev1.Service) { s.Spec.Type = t }
}

func withPorts(ports ...corev1.ServicePort) tweak {
	return func(s *corev1.Service) { s.Spec.Ports = ports }
}

func withClusterIPs(ips ...string) tweak {
	return func(s *corev1.Service) {
		s.Spec.ClusterIPs = ips
		s.Spec.ClusterIP = ""
		if len(ips) > 0 {
			s.Spec.ClusterIP = ips[0]
		}
	}
}

func withFamilies(policy corev1.IPFamilyPolicy, fams ...corev1.IPFamily) tweak {
	return func(s *corev1.Service) {
		s.Spec.IPFamilies = fams
		s.Spec.IPFamilyPolicy = nil
		if policy != "" {
			s.Spec.IPFamilyPolicy = policyPtr(policy)
		}
	}
}

// dualStack makes a RequireDualStack IPv4-primary Service.
func dualStack(s *corev1.Service) {
	withClusterIPs("10.96.0.10", "fd00::10")(s)
	withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)(s)
}

// nodePortType makes a NodePort Service with the given node port.
func nodePortType(np int32) tweak {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		s.Spec.Ports[0].NodePort = np
	}
}

// loadBalancer makes a LoadBalancer Service with the given node port.
func loadBalancer(np int32) tweak {
	return func(s *corev1.Service) {
		nodePortType(np)(s)
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		allocate := true
		s.Spec.AllocateLoadBalancerNodePorts = &allocate
	}
}

// localTraffic sets externalTrafficPolicy Local with a health check port.
func localTraffic(hc int32) tweak {
	return func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.HealthCheckNodePort = hc
	}
}

// externalName makes an ExternalName Service as stored.
func externalName(name string) tweak {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeExternalName
		s.Spec.ExternalName = name
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil
		s.Spec.IPFamilies, s.Spec.IPFamilyPolicy = nil, nil
		s.Spec.InternalTrafficPolicy = nil
	}
}

// headless makes a headless Service.
func headless(s *corev1.Service) {
	s.Spec.ClusterIP = corev1.ClusterIPNone
	s.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
}

func ptrTo[T any](v T) *T { return &v }

func port(name string, p int32, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, Protocol: proto, TargetPort: intstr.FromInt32(p)}
}

func errorStrings(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// checkErrors compares field errors with their expected texts, in order.
func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := errorStrings(errs)
	if want == nil {
		want = []string{}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}
}

// checkStrings compares string lists, in order.
func checkStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}
