package service

import (
	corev1 "k8s.io/api/core/v1"
)

// Config describes the cluster the Services are served for.
type Config struct {
	// IPFamilies are the families of the configured service CIDRs, primary
	// first: one entry on a single-stack cluster, two on a dual-stack one.
	// Empty means a single-stack IPv4 cluster.
	IPFamilies []corev1.IPFamily
}

// families returns the configured families, primary first.
func (c Config) families() []corev1.IPFamily {
	if len(c.IPFamilies) == 0 {
		return []corev1.IPFamily{corev1.IPv4Protocol}
	}
	return c.IPFamilies
}

// primary returns the family of the primary service CIDR.
func (c Config) primary() corev1.IPFamily {
	return c.families()[0]
}

// has says whether a service CIDR of family f is configured.
func (c Config) has(f corev1.IPFamily) bool {
	for _, fam := range c.families() {
		if fam == f {
			return true
		}
	}
	return false
}

// dualStack says whether both families are configured.
func (c Config) dualStack() bool {
	return len(c.families()) >= 2
}

// otherFamily returns the family that is not f.
func otherFamily(f corev1.IPFamily) corev1.IPFamily {
	if f == corev1.IPv4Protocol {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}
