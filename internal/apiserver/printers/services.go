package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1beta1 "k8s.io/api/discovery/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func servicePrinter() Printer {
	spec := corev1.ServiceSpec{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Type", "string", spec["type"]),
			column("Cluster-IP", "string", spec["clusterIP"]),
			column("External-IP", "string", spec["externalIPs"]),
			column("Port(s)", "string", spec["ports"]),
			ageColumn(),
			wideColumn("Selector", "string", spec["selector"]),
		},
		Row: typed(serviceRow),
	}
}

func serviceRow(svc *corev1.Service, now time.Time) []interface{} {
	clusterIP := "<none>"
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	return []interface{}{
		svc.Name,
		string(svc.Spec.Type),
		clusterIP,
		serviceExternalIP(svc),
		orDefault(servicePorts(svc.Spec.Ports), "<none>"),
		age(svc.CreationTimestamp, now),
		labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceExternalIP is the External-IP cell. Upstream clips load-balancer
// addresses to 16 characters only for narrow output, and the API server
// always prints wide, so nothing is clipped here.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		addrs := append(loadBalancerAddresses(svc.Status.LoadBalancer), svc.Spec.ExternalIPs...)
		if len(addrs) == 0 {
			return "<pending>"
		}
		return strings.Join(addrs, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerAddresses are the ingress points' IPs (or hostnames when there
// is no IP), sorted and without duplicates.
func loadBalancerAddresses(s corev1.LoadBalancerStatus) []string {
	seen := map[string]bool{}
	var addrs []string
	for _, ing := range s.Ingress {
		a := ing.IP
		if a == "" {
			a = ing.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	return addrs
}

// servicePorts renders ports as 80/TCP, or 80:30080/TCP with a node port.
func servicePorts(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		pieces[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		}
	}
	return strings.Join(pieces, ",")
}

func endpointsPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
			ageColumn(),
		},
		Row: typed(func(ep *corev1.Endpoints, now time.Time) []interface{} {
			return []interface{}{ep.Name, endpointsAddresses(ep), age(ep.CreationTimestamp, now)}
		}),
	}
}

// endpointsAddresses lists ip:port for every port of every subset (the bare
// IP in a subset without ports), only ready addresses, first three shown.
func endpointsAddresses(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	var list shortList
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				list.add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				list.add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return list.String()
}

func endpointSlicePrinter() Printer {
	// Upstream takes these descriptions from discovery/v1beta1.
	doc := discoveryv1beta1.EndpointSlice{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("AddressType", "string", doc["addressType"]),
			column("Ports", "string", doc["ports"]),
			column("Endpoints", "string", doc["endpoints"]),
			ageColumn(),
		},
		Row: typed(endpointSliceRow),
	}
}

func endpointSliceRow(s *discoveryv1.EndpointSlice, now time.Time) []interface{} {
	var ports, addrs shortList
	for _, p := range s.Ports {
		switch {
		case p.Port != nil:
			ports.add(strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports.add(*p.Name)
		default:
			ports.add("*")
		}
	}
	for _, ep := range s.Endpoints {
		for _, a := range ep.Addresses {
			addrs.add(a)
		}
	}
	return []interface{}{
		s.Name,
		string(s.AddressType),
		orDefault(ports.String(), "<unset>"),
		orDefault(addrs.String(), "<unset>"),
		age(s.CreationTimestamp, now),
	}
}
