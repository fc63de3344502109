package cluster

// records.go: the trimmed, immutable records the index keeps, and the pure
// functions that make them from API objects. Names are lowercased here so
// that lookups compare lowercased query labels with ==.

import (
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// tolerateUnreadyAnnotation is the pre-publishNotReadyAddresses way of
// publishing not-ready endpoints, still part of the spec's "ready".
const tolerateUnreadyAnnotation = "service.alpha.kubernetes.io/tolerate-unready-endpoints"

// nsName names a namespaced object, e.g. a Service.
type nsName struct{ ns, name string }

// serviceKind decides how a Service is answered.
type serviceKind uint8

const (
	kindClusterIP    serviceKind = iota // A/AAAA of its cluster IPs
	kindHeadless                        // A/AAAA of its ready endpoints
	kindExternalName                    // CNAME to its externalName
)

// service is a trimmed Service. It is never changed once indexed.
type service struct {
	kind            serviceKind
	clusterIPs      []netip.Addr
	ports           []port
	externalName    string // FQDN; only for kindExternalName
	publishNotReady bool
}

// port is a Service or EndpointSlice port; number is -1 when unset.
type port struct {
	name     string // lowercase, "" when unnamed
	protocol string // lowercase: tcp, udp or sctp
	number   int32
}

// endpoint is one address of an EndpointSlice endpoint.
type endpoint struct {
	addr     netip.Addr
	hostname string // lowercase, "" when unset
	ready    bool   // conditions.ready, nil meaning true
	ports    []port // the slice's ports, shared by its endpoints
}

// label is the endpoint's name under its Service: the hostname, else the
// address with dashes (1-2-3-4, fd00--1), as CoreDNS without
// endpoint_pod_names.
func (e endpoint) label() string { return endpointLabel(e.hostname, e.addr) }

// endpointLabel is the label of an endpoint at addr with hostname.
func endpointLabel(hostname string, addr netip.Addr) string {
	if hostname != "" {
		return hostname
	}
	return dashed(addr)
}

// dashed writes addr with its dots or colons as dashes.
func dashed(addr netip.Addr) string {
	s := addr.String()
	if addr.Is4() {
		return strings.ReplaceAll(s, ".", "-")
	}
	return strings.ReplaceAll(s, ":", "-")
}

// pod is what the index keeps of a Pod: its IPs and whether it runs.
type pod struct {
	ips     []netip.Addr
	running bool
}

// toService trims a Service. The kind follows spec.type and spec.clusterIP,
// never a stale spec.externalName.
func toService(s *corev1.Service) *service {
	out := &service{
		ports:           toServicePorts(s.Spec.Ports),
		publishNotReady: s.Spec.PublishNotReadyAddresses || s.Annotations[tolerateUnreadyAnnotation] == "true",
	}
	switch {
	case s.Spec.Type == corev1.ServiceTypeExternalName:
		out.kind = kindExternalName
		out.externalName = externalTarget(s.Spec.ExternalName)
	case s.Spec.ClusterIP == corev1.ClusterIPNone:
		out.kind = kindHeadless
	default:
		out.clusterIPs = clusterIPs(s.Spec)
	}
	return out
}

// clusterIPs parses spec.clusterIPs (spec.clusterIP when empty).
func clusterIPs(spec corev1.ServiceSpec) []netip.Addr {
	ips := spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{spec.ClusterIP}
	}
	return parseAddrs(ips)
}

// externalTarget returns name as an FQDN, or "" when it is not a usable
// CNAME target (empty, an IP address, or not a domain name) as CoreDNS
// skips such ExternalNames.
func externalTarget(name string) string {
	if _, err := netip.ParseAddr(name); err == nil || name == "" {
		return ""
	}
	if _, ok := mdns.IsDomainName(name); !ok {
		return ""
	}
	return mdns.Fqdn(name)
}

// toServicePorts trims a Service's ports.
func toServicePorts(in []corev1.ServicePort) []port {
	out := make([]port, 0, len(in))
	for _, p := range in {
		out = append(out, newPort(p.Name, string(p.Protocol), p.Port))
	}
	return out
}

// newPort makes a port, TCP when the protocol is empty.
func newPort(name, protocol string, number int32) port {
	if protocol == "" {
		protocol = string(corev1.ProtocolTCP)
	}
	return port{name: strings.ToLower(name), protocol: strings.ToLower(protocol), number: number}
}

// toSlice trims an EndpointSlice: the Service it belongs to (label
// kubernetes.io/service-name, "" when missing) and one endpoint per address.
func toSlice(s *discoveryv1.EndpointSlice) (string, []endpoint) {
	ports := toSlicePorts(s.Ports)
	var out []endpoint
	for _, e := range s.Endpoints {
		ready := e.Conditions.Ready == nil || *e.Conditions.Ready
		hostname := strings.ToLower(deref(e.Hostname))
		for _, a := range parseAddrs(e.Addresses) {
			out = append(out, endpoint{addr: a, hostname: hostname, ready: ready, ports: ports})
		}
	}
	return strings.ToLower(s.Labels[discoveryv1.LabelServiceName]), out
}

// toSlicePorts trims an EndpointSlice's ports; a nil port number is -1.
func toSlicePorts(in []discoveryv1.EndpointPort) []port {
	out := make([]port, 0, len(in))
	for _, p := range in {
		number := int32(-1)
		if p.Port != nil {
			number = *p.Port
		}
		var protocol string
		if p.Protocol != nil {
			protocol = string(*p.Protocol)
		}
		out = append(out, newPort(deref(p.Name), protocol, number))
	}
	return out
}

// toPod trims a Pod; ok is false for a pod that is done (Succeeded or
// Failed) or has no IP, which the index drops.
func toPod(p *corev1.Pod) (pod, bool) {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return pod{}, false
	}
	ips := make([]string, 0, len(p.Status.PodIPs)+1)
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 {
		ips = append(ips, p.Status.PodIP)
	}
	out := pod{ips: parseAddrs(ips), running: p.Status.Phase == corev1.PodRunning}
	return out, len(out.ips) > 0
}

// parseAddrs parses the valid addresses of in, IPv4-mapped ones as IPv4.
func parseAddrs(in []string) []netip.Addr {
	out := make([]netip.Addr, 0, len(in))
	for _, s := range in {
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// deref returns *s, "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
