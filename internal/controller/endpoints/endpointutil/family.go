package endpointutil

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// IsServiceIPSet reports whether the Service has a cluster IP (is neither
// headless nor without one).
func IsServiceIPSet(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP != corev1.ClusterIPNone && svc.Spec.ClusterIP != ""
}

// AddressTypes returns the EndpointSlice address types a Service gets, in
// order: one per spec.ipFamilies; without families, the family of the
// cluster IP, or both for a headless Service.
func AddressTypes(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		switch f {
		case corev1.IPv4Protocol:
			out = appendOnce(out, discoveryv1.AddressTypeIPv4)
		case corev1.IPv6Protocol:
			out = appendOnce(out, discoveryv1.AddressTypeIPv6)
		}
	}
	if len(out) > 0 {
		return out
	}
	if IsServiceIPSet(svc) {
		if ip, ok := ParseIP(svc.Spec.ClusterIP); ok && ip.Is6() {
			return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
		}
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
}

func appendOnce(list []discoveryv1.AddressType, t discoveryv1.AddressType) []discoveryv1.AddressType {
	for _, x := range list {
		if x == t {
			return list
		}
	}
	return append(list, t)
}

// AddressTypeOf returns the address type of an IP.
func AddressTypeOf(ip netip.Addr) discoveryv1.AddressType {
	if ip.Is4() {
		return discoveryv1.AddressTypeIPv4
	}
	return discoveryv1.AddressTypeIPv6
}

// PrimaryAddressType is the family whose pod IP a Service's Endpoints
// list: spec.ipFamilies[0]; without families, that of the cluster IP, or
// for a headless Service that of the pod's primary IP.
func PrimaryAddressType(svc *corev1.Service, pod *corev1.Pod) discoveryv1.AddressType {
	if len(svc.Spec.IPFamilies) > 0 {
		if svc.Spec.IPFamilies[0] == corev1.IPv6Protocol {
			return discoveryv1.AddressTypeIPv6
		}
		return discoveryv1.AddressTypeIPv4
	}
	if IsServiceIPSet(svc) {
		return AddressTypes(svc)[0]
	}
	if ips := PodIPs(pod); len(ips) > 0 {
		return AddressTypeOf(ips[0])
	}
	return discoveryv1.AddressTypeIPv4
}

// PodIPOfType returns the pod's first IP of the address type.
func PodIPOfType(pod *corev1.Pod, t discoveryv1.AddressType) (netip.Addr, bool) {
	for _, ip := range PodIPs(pod) {
		if AddressTypeOf(ip) == t {
			return ip, true
		}
	}
	return netip.Addr{}, false
}
