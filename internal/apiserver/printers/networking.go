package printers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The printers of Ingresses and IngressClasses, as kube-apiserver's.

func ingressPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Class", "string", "The name of the IngressClass resource that should be used for this Ingress."),
			column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
			column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
			column("Ports", "string", "Ports of TLS configurations that open"),
			ageColumn(),
		},
		Row: typed(ingressRow),
	}
}

func ingressRow(ing *networkingv1.Ingress, now time.Time) []interface{} {
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	ports := "80"
	if len(ing.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []interface{}{ing.Name, class, ingressHosts(ing.Spec.Rules), ingressAddresses(ing.Status.LoadBalancer), ports,
		age(ing.CreationTimestamp, now)}
}

// ingressHosts lists the first three hosts of the rules, "*" if none, and
// how many rules are left as upstream counts them (rules minus three).
func ingressHosts(rules []networkingv1.IngressRule) string {
	const max = 3
	var list []string
	more := false
	for _, r := range rules {
		if len(list) == max {
			more = true
		}
		if !more && r.Host != "" {
			list = append(list, r.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	s := strings.Join(list, ",")
	if more {
		s = fmt.Sprintf("%s + %d more...", s, len(rules)-max)
	}
	return s
}

// ingressAddresses are the load balancer's IPs or hostnames, sorted and
// without duplicates (rows are wide: not shortened).
func ingressAddresses(st networkingv1.IngressLoadBalancerStatus) string {
	seen := map[string]bool{}
	var out []string
	for _, in := range st.Ingress {
		a := in.IP
		if a == "" {
			a = in.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func ingressClassPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Controller", "string", "Controller that is responsible for handling this class"),
			column("Parameters", "string", "A reference to a resource with additional parameters"),
			ageColumn(),
		},
		Row: typed(ingressClassRow),
	}
}

func ingressClassRow(ic *networkingv1.IngressClass, now time.Time) []interface{} {
	params := "<none>"
	if p := ic.Spec.Parameters; p != nil {
		params = p.Kind
		if p.APIGroup != nil {
			params += "." + *p.APIGroup
		}
		params += "/" + p.Name
	}
	return []interface{}{ic.Name, ic.Spec.Controller, params, age(ic.CreationTimestamp, now)}
}
