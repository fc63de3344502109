package service

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	netutils "k8s.io/utils/net"
)

// needsClusterIP says whether the type carries clusterIP(s): every type but
// ExternalName ("None" counts as a value).
func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName
}

// hasClusterIPType says whether the type is one of the three that get
// cluster IPs: ClusterIP, NodePort, LoadBalancer (an unknown type is none).
func hasClusterIPType(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		return true
	}
	return false
}

// needsNodePort says whether the type carries node ports.
func needsNodePort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// needsHealthCheck says whether the Service needs a healthCheckNodePort:
// type LoadBalancer with externalTrafficPolicy Local.
func needsHealthCheck(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// externallyAccessible says whether traffic can reach the Service from
// outside the cluster: NodePort, LoadBalancer, or ClusterIP with
// externalIPs.
func externallyAccessible(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeClusterIP:
		return len(svc.Spec.ExternalIPs) > 0
	}
	return false
}

// isHeadless is validation's notion of headless: clusterIPs is exactly
// ["None"].
func isHeadless(svc *corev1.Service) bool {
	return svc != nil && len(svc.Spec.ClusterIPs) == 1 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone
}

// isHeadlessSelectorless is the allocator's special case: clusterIP "None"
// and no selector, whose endpoints may be of any family.
func isHeadlessSelectorless(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone && len(svc.Spec.Selector) == 0
}

// policyOf returns spec.ipFamilyPolicy, or "" when unset.
func policyOf(svc *corev1.Service) corev1.IPFamilyPolicy {
	if svc.Spec.IPFamilyPolicy == nil {
		return ""
	}
	return *svc.Spec.IPFamilyPolicy
}

// familyOf returns the family of an IP address in string form.
func familyOf(ip string) corev1.IPFamily {
	switch {
	case netutils.IsIPv4String(ip):
		return corev1.IPv4Protocol
	case netutils.IsIPv6String(ip):
		return corev1.IPv6Protocol
	}
	return corev1.IPFamily("unknown")
}

// sameClusterIPList compares spec.clusterIPs only.
func sameClusterIPList(a, b *corev1.Service) bool {
	return slices.Equal(a.Spec.ClusterIPs, b.Spec.ClusterIPs)
}

// sameClusterIPs compares spec.clusterIP and spec.clusterIPs.
func sameClusterIPs(a, b *corev1.Service) bool {
	return a.Spec.ClusterIP == b.Spec.ClusterIP && sameClusterIPList(a, b)
}

// sameIPFamilies compares spec.ipFamilies.
func sameIPFamilies(a, b *corev1.Service) bool {
	return slices.Equal(a.Spec.IPFamilies, b.Spec.IPFamilies)
}

func policyPtr(p corev1.IPFamilyPolicy) *corev1.IPFamilyPolicy {
	return &p
}
