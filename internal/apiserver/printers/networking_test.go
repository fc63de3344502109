package printers

import (
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNetworkingRows(t *testing.T) {
	class := "nginx"
	rules := func(hosts ...string) []networkingv1.IngressRule {
		var out []networkingv1.IngressRule
		for _, h := range hosts {
			out = append(out, networkingv1.IngressRule{Host: h})
		}
		return out
	}
	web := &networkingv1.Ingress{ObjectMeta: objMeta("web", time.Hour), Spec: networkingv1.IngressSpec{IngressClassName: &class,
		Rules: rules("a.example", "b.example"), TLS: []networkingv1.IngressTLS{{}}},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
			{IP: "10.0.0.2"}, {Hostname: "lb.example"}, {IP: "10.0.0.2"}}}}}
	many := &networkingv1.Ingress{ObjectMeta: objMeta("many", time.Hour), Spec: networkingv1.IngressSpec{Rules: rules("a", "", "c", "d", "e")}}
	testRows(t, schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, []rowCase{
		{"tls", web, "web | nginx | a.example,b.example | 10.0.0.2,lb.example | 80, 443 | 60m"},
		{"many", many, "many | <none> | a,c,d + 2 more... |  | 80 | 60m"},
		{"default", &networkingv1.Ingress{ObjectMeta: objMeta("d", time.Hour)}, "d | <none> | * |  | 80 | 60m"},
	})
	group := "k8s.example.com"
	testRows(t, schema.GroupResource{Group: "networking.k8s.io", Resource: "ingressclasses"}, []rowCase{
		{"params", &networkingv1.IngressClass{ObjectMeta: objMeta("nginx", time.Hour), Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx",
			Parameters: &networkingv1.IngressClassParametersReference{APIGroup: &group, Kind: "Params", Name: "p"}}},
			"nginx | k8s.io/ingress-nginx | Params.k8s.example.com/p | 60m"},
		{"none", &networkingv1.IngressClass{ObjectMeta: objMeta("x", time.Hour), Spec: networkingv1.IngressClassSpec{Controller: "a.b/c"}},
			"x | a.b/c | <none> | 60m"},
	})
}
