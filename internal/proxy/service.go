package proxy

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Annotations svcplane reads from Services.
const (
	// SchedulerAnnotation picks a mode's scheduler per Service
	// (nftables: random, rr, sh; ipvs: any IPVS scheduler).
	SchedulerAnnotation = "svcplane.io/scheduler"
	// hintsAnnotation is the older topology-aware hints annotation.
	hintsAnnotation = "service.kubernetes.io/topology-mode"
	// hintsAnnotationOld is its deprecated predecessor.
	hintsAnnotationOld = "service.kubernetes.io/topology-aware-hints"
)

// ServicePorts returns the ports of svc that a proxy programs for family,
// or nil for a Service no proxy handles (ExternalName, headless, or without
// a cluster IP of that family).
func ServicePorts(svc *corev1.Service, family corev1.IPFamily) []*ServicePort {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	clusterIP, ok := clusterIPOf(svc, family)
	if !ok {
		return nil
	}
	nn := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	common := servicePortCommon(svc, family)
	ports := make([]*ServicePort, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		sp := common
		sp.Name = ServicePortName{NamespacedName: nn, Port: p.Name, Protocol: p.Protocol}
		sp.ClusterIP = clusterIP
		sp.Port = p.Port
		sp.Protocol = p.Protocol
		sp.NodePort = p.NodePort
		sp.ExternalPolicyLocal = sp.ExternallyAccessible() && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
		if !sp.ExternalPolicyLocal {
			sp.HealthCheckNodePort = 0
		}
		ports = append(ports, &sp)
	}
	return ports
}

// servicePortCommon fills what every port of svc shares.
func servicePortCommon(svc *corev1.Service, family corev1.IPFamily) ServicePort {
	sp := ServicePort{
		ExternalIPs:              addrsOf(svc.Spec.ExternalIPs, family),
		LoadBalancerSourceRanges: prefixesOf(svc.Spec.LoadBalancerSourceRanges, family),
		HealthCheckNodePort:      svc.Spec.HealthCheckNodePort,
		HintsAnnotation:          hints(svc),
		Scheduler:                svc.Annotations[SchedulerAnnotation],
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		sp.LoadBalancerVIPs = ingressVIPs(svc, family)
	}
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		sp.AffinitySeconds = corev1.DefaultClientIPServiceAffinitySeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			sp.AffinitySeconds = *c.ClientIP.TimeoutSeconds
		}
	}
	if p := svc.Spec.InternalTrafficPolicy; p != nil && *p == corev1.ServiceInternalTrafficPolicyLocal {
		sp.InternalPolicyLocal = true
	}
	if d := svc.Spec.TrafficDistribution; d != nil {
		sp.TrafficDistribution = *d
	}
	return sp
}

func hints(svc *corev1.Service) string {
	if v, ok := svc.Annotations[hintsAnnotation]; ok {
		return v
	}
	return svc.Annotations[hintsAnnotationOld]
}

// clusterIPOf returns the Service's cluster IP of family.
func clusterIPOf(svc *corev1.Service, family corev1.IPFamily) (netip.Addr, bool) {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, s := range ips {
		if s == corev1.ClusterIPNone {
			return netip.Addr{}, false
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && Family(a) == family {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// ingressVIPs are the load-balancer ingress IPs of family in VIP mode
// (ipMode Proxy addresses are the load balancer's own, not the node's).
func ingressVIPs(svc *corev1.Service, family corev1.IPFamily) []netip.Addr {
	var out []netip.Addr
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IPMode != nil && *ing.IPMode != corev1.LoadBalancerIPModeVIP {
			continue
		}
		out = append(out, addrsOf([]string{ing.IP}, family)...)
	}
	return out
}

// addrsOf parses the addresses of family in ss, skipping invalid ones.
func addrsOf(ss []string, family corev1.IPFamily) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err == nil && Family(a) == family {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// prefixesOf parses the CIDRs of family in ss (kube-proxy trims the white
// space users leave in loadBalancerSourceRanges), skipping invalid ones.
func prefixesOf(ss []string, family corev1.IPFamily) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err == nil && Family(p.Addr()) == family {
			out = append(out, p.Masked())
		}
	}
	return out
}
