package endpoints

import (
	corev1 "k8s.io/api/core/v1"
)

// subsetsEqual compares subsets field by field, nil and empty lists alike,
// ignoring the resourceVersion of targets.
func subsetsEqual(a, b []corev1.EndpointSubset) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !addressesEqual(a[i].Addresses, b[i].Addresses) ||
			!addressesEqual(a[i].NotReadyAddresses, b[i].NotReadyAddresses) ||
			!portsEqual(a[i].Ports, b[i].Ports) {
			return false
		}
	}
	return true
}

func addressesEqual(a, b []corev1.EndpointAddress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.IP != y.IP || x.Hostname != y.Hostname || !equalPtr(x.NodeName, y.NodeName) || !refsEqual(x.TargetRef, y.TargetRef) {
			return false
		}
	}
	return true
}

func portsEqual(a, b []corev1.EndpointPort) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Name != y.Name || x.Port != y.Port || x.Protocol != y.Protocol || !equalPtr(x.AppProtocol, y.AppProtocol) {
			return false
		}
	}
	return true
}

func refsEqual(a, b *corev1.ObjectReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.ResourceVersion, y.ResourceVersion = "", ""
	return x == y
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
