package ingress

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func ptr[T any](v T) *T { return &v }

func svcBackend(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
}

// conformanceIngress is the Ingress of upstream's Ingress API spec.
func conformanceIngress() *networkingv1.Ingress {
	b := svcBackend("default-backend", networkingv1.ServiceBackendPort{Number: 8080})
	return &networkingv1.Ingress{Spec: networkingv1.IngressSpec{
		DefaultBackend: &b,
		Rules: []networkingv1.IngressRule{{Host: "foo.bar.com", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr(networkingv1.PathTypePrefix),
				Backend: svcBackend("test-backend", networkingv1.ServiceBackendPort{Number: 8080})}}}}}},
	}}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*networkingv1.Ingress)
		want   string
	}{
		{"ok", func(*networkingv1.Ingress) {}, ""},
		{"nothing", func(i *networkingv1.Ingress) { i.Spec = networkingv1.IngressSpec{} }, "spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"},
		{"ip host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "1.2.3.4" }, `spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address`},
		{"wildcard", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.bar.com" }, ""},
		{"bad wildcard", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "foo.*.com" }, `spec.rules[0].host: Invalid value: "foo.*.com": a wildcard DNS-1123 subdomain must start with '*.'`},
		{"no pathType", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].PathType = nil }, "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"},
		{"relative", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "a" }, `spec.rules[0].http.paths[0].path: Invalid value: "a": must be an absolute path`},
		{"dotdot", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "/a/.." }, `spec.rules[0].http.paths[0].path: Invalid value: "/a/..": cannot end with '/..'`},
		{"pathType", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathType("Regex"))
		}, `spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"`},
		{"no paths", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil }, "spec.rules[0].http.paths: Required value"},
		{"both ports", func(i *networkingv1.Ingress) {
			i.Spec.DefaultBackend.Service.Port.Name = "http"
		}, `spec.defaultBackend: Invalid value: "": cannot set both port name & port number`},
		{"no port", func(i *networkingv1.Ingress) {
			i.Spec.DefaultBackend.Service.Port.Number = 0
		}, "spec.defaultBackend: Required value: port name or number is required"},
		{"bad port", func(i *networkingv1.Ingress) {
			i.Spec.DefaultBackend.Service.Port.Number = 70000
		}, "spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"no backend", func(i *networkingv1.Ingress) {
			i.Spec.DefaultBackend = &networkingv1.IngressBackend{}
		}, `spec.defaultBackend: Invalid value: "": resource or service backend is required`},
		{"service name", func(i *networkingv1.Ingress) { i.Spec.DefaultBackend.Service.Name = "Web" }, `spec.defaultBackend.service.name: Invalid value: "Web": a DNS-1035 label must consist`},
		{"resource", func(i *networkingv1.Ingress) {
			i.Spec.DefaultBackend = &networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket"}}
		}, "spec.defaultBackend.resource.name: Required value: name is required"},
		{"tls", func(i *networkingv1.Ingress) {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"a_b"}, SecretName: "Tls"}}
		}, `spec.tls[0].hosts[0]: Invalid value: "a_b"`},
		{"class", func(i *networkingv1.Ingress) { i.Spec.IngressClassName = ptr("A") }, `spec.ingressClassName: Invalid value: "A"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ing := conformanceIngress()
			tc.change(ing)
			got := Validate(context.Background(), ing).ToAggregate()
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("got %v", got)
			case tc.want != "" && (got == nil || !strings.Contains(got.Error(), tc.want)):
				t.Fatalf("got %v, want %q", got, tc.want)
			}
		})
	}
}

// TestUpdateKeepsOldLeniency: a stored bad TLS secret name stays allowed
// on update, a new one is refused.
func TestUpdateKeepsOldLeniency(t *testing.T) {
	old := conformanceIngress()
	old.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "Bad_Name"}}
	ing := old.DeepCopy()
	if errs := ValidateUpdate(context.Background(), ing, old); len(errs) > 0 {
		t.Fatalf("update of a stored name: %v", errs)
	}
	if errs := ValidateUpdate(context.Background(), ing, conformanceIngress()); len(errs) == 0 {
		t.Fatal("a new bad secret name passed")
	}
}

func TestStatus(t *testing.T) {
	old := conformanceIngress()
	PrepareForCreate(context.Background(), old)
	ing := old.DeepCopy()
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "169.1.1.1"}}
	ing.Spec.DefaultBackend = nil
	PrepareForStatusUpdate(context.Background(), ing, old)
	if ing.Spec.DefaultBackend == nil {
		t.Error("status update changed the spec")
	}
	if errs := ValidateStatusUpdate(context.Background(), ing, old); len(errs) > 0 {
		t.Error(errs)
	}
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "x"}, {Hostname: "1.2.3.4"}}
	got := ValidateStatusUpdate(context.Background(), ing, old).ToAggregate().Error()
	for _, want := range []string{`status.loadBalancer.ingress[0].ip: Invalid value: "x"`, `status.loadBalancer.ingress[1].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address`} {
		if !strings.Contains(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	upd := ing.DeepCopy()
	upd.Status = networkingv1.IngressStatus{}
	upd.Spec.Rules = nil
	PrepareForUpdate(context.Background(), upd, ing)
	if len(upd.Status.LoadBalancer.Ingress) != 2 || upd.Generation != 2 {
		t.Errorf("update: status %v generation %d", upd.Status, upd.Generation)
	}
}

func TestValidateClass(t *testing.T) {
	for _, tc := range []struct {
		name string
		ic   networkingv1.IngressClass
		want string
	}{
		{"ok", networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "example.com/e2e"}}, ""},
		{"no domain", networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "nginx"}}, `spec.controller: Invalid value: "nginx"`},
		{"params default scope", networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "a.b/c",
			Parameters: &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n"}}}, ""},
		{"namespace scope", networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "a.b/c",
			Parameters: &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n", Scope: ptr("Namespace")}}},
			"spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"},
		{"cluster scope", networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "a.b/c",
			Parameters: &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n", Namespace: ptr("x")}}},
			"spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"},
		{"bad scope", networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "a.b/c",
			Parameters: &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n", Scope: ptr("Zone")}}},
			`spec.parameters.scope: Unsupported value: "Zone": supported values: "Cluster", "Namespace"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ic := tc.ic
			DefaultClass(&ic)
			got := ValidateClass(context.Background(), &ic).ToAggregate()
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("got %v", got)
			case tc.want != "" && (got == nil || !strings.Contains(got.Error(), tc.want)):
				t.Fatalf("got %v, want %q", got, tc.want)
			}
		})
	}
	old := &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "a.b/c"}}
	ic := &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "a.b/d"}}
	if got := ValidateClassUpdate(context.Background(), ic, old).ToAggregate(); got == nil || !strings.Contains(got.Error(), "spec.controller: Invalid value: \"a.b/d\": field is immutable") {
		t.Errorf("controller change: %v", got)
	}
}
