package proxy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ServicePortName names one port of one Service: "ns/name:port", or
// "ns/name" when the port has no name (kube-proxy's ServicePortName).
type ServicePortName struct {
	types.NamespacedName
	Port     string
	Protocol corev1.Protocol
}

// String is kube-proxy's servicePortName string, the base of its chain
// names and comments.
func (n ServicePortName) String() string {
	if n.Port == "" {
		return n.NamespacedName.String()
	}
	return n.NamespacedName.String() + ":" + n.Port
}

// ServicePort is what a proxy needs of one port of a Service, for one IP
// family.
type ServicePort struct {
	Name      ServicePortName
	ClusterIP netip.Addr
	Port      int32
	Protocol  corev1.Protocol
	// NodePort is 0 when the Service has none.
	NodePort int32
	// ExternalIPs and LoadBalancerVIPs are of the State's family;
	// LoadBalancerVIPs holds only ingress IPs in VIP mode.
	ExternalIPs              []netip.Addr
	LoadBalancerVIPs         []netip.Addr
	LoadBalancerSourceRanges []netip.Prefix
	// AffinitySeconds is the ClientIP session affinity timeout; 0 means no
	// affinity.
	AffinitySeconds int32
	// ExternalPolicyLocal is externalTrafficPolicy: Local on an externally
	// accessible Service; InternalPolicyLocal is internalTrafficPolicy: Local.
	ExternalPolicyLocal bool
	InternalPolicyLocal bool
	HealthCheckNodePort int32
	// TrafficDistribution and HintsAnnotation decide topology-aware routing.
	TrafficDistribution string
	HintsAnnotation     string
	// Scheduler is the svcplane.io/scheduler annotation ("" = the mode's
	// default).
	Scheduler string
}

// ExternallyAccessible says whether the port is reachable from outside the
// cluster: a NodePort, an external IP or a load-balancer address.
func (p *ServicePort) ExternallyAccessible() bool {
	return p.NodePort != 0 || len(p.ExternalIPs) > 0 || len(p.LoadBalancerVIPs) > 0
}

// UsesClusterEndpoints says whether some traffic to the port goes to
// endpoints anywhere in the cluster. As in kube-proxy, an externally
// accessible port always does, even with externalTrafficPolicy Local: pod
// traffic to its external addresses short-circuits to the Cluster endpoints.
func (p *ServicePort) UsesClusterEndpoints() bool {
	return !p.InternalPolicyLocal || p.ExternallyAccessible()
}

// UsesLocalEndpoints says whether some traffic to the port goes only to
// endpoints on this node.
func (p *ServicePort) UsesLocalEndpoints() bool {
	return p.InternalPolicyLocal || (p.ExternallyAccessible() && p.ExternalPolicyLocal)
}

// Endpoint is one backend address of a service port.
type Endpoint struct {
	IP   netip.Addr
	Port int32
	// Ready, Serving and Terminating are the EndpointSlice conditions
	// (nil Ready and Serving mean true).
	Ready, Serving, Terminating bool
	// Local says the endpoint runs on this node.
	Local     bool
	NodeName  string
	ZoneHints []string
}

// String is "ip:port" ("[ip]:port" for IPv6), kube-proxy's endpoint key.
func (e Endpoint) String() string {
	return netip.AddrPortFrom(e.IP, uint16(e.Port)).String()
}

// HasZoneHint says whether the endpoint is hinted for zone.
func (e Endpoint) HasZoneHint(zone string) bool {
	for _, z := range e.ZoneHints {
		if z == zone {
			return true
		}
	}
	return false
}

// ProtoLower is the protocol as kube-proxy writes it in names ("tcp").
func ProtoLower(p corev1.Protocol) string { return strings.ToLower(string(p)) }

// PortString is a port number as text.
func PortString(p int32) string { return strconv.Itoa(int(p)) }

// Family returns the IP family of an address.
func Family(a netip.Addr) corev1.IPFamily {
	if a.Is4() || a.Is4In6() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// Node is what the proxy needs of its own Node.
type Node struct {
	Name   string
	Labels map[string]string
	// IPs are the node's addresses of the State's family.
	IPs []netip.Addr
}

// Zone is the node's topology.kubernetes.io/zone label.
func (n Node) Zone() string { return n.Labels[corev1.LabelTopologyZone] }

// Options are the settings of kube-proxy's configuration that shape the
// rules of every mode.
type Options struct {
	// ClusterCIDRs tell pod traffic from other traffic (detectLocalMode
	// ClusterCIDR); empty means no local-traffic detection.
	ClusterCIDRs []netip.Prefix
	// MasqueradeAll masquerades all traffic to cluster IPs.
	MasqueradeAll bool
	// MasqueradeBit is the fwmark bit for masquerading (default 14).
	MasqueradeBit int
	// NodePortAddresses are the node addresses NodePorts answer on; nil
	// means every local address.
	NodePortAddresses []netip.Addr
	// LocalhostNodePorts lets NodePorts answer on 127.0.0.1 (iptables
	// mode, IPv4 only).
	LocalhostNodePorts bool
}

// MasqueradeMark is the mark value for the masquerade bit, e.g. "0x4000".
func (o Options) MasqueradeMark() string {
	bit := o.MasqueradeBit
	if bit == 0 {
		bit = 14
	}
	return fmt.Sprintf("%#08x", 1<<uint(bit))
}
