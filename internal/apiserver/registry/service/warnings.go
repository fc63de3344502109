package service

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// Warnings returns the warnings kube-apiserver sends for a create (old is
// nil) or an update of a Service (upstream's GetWarningsForService, which
// does not look at old either).
func Warnings(svc, old *corev1.Service) []string {
	if svc == nil {
		return nil
	}
	var warnings []string
	if _, ok := svc.Annotations[corev1.DeprecatedAnnotationTopologyAwareHints]; ok {
		warnings = append(warnings, fmt.Sprintf("annotation %s is deprecated, please use %s instead",
			corev1.DeprecatedAnnotationTopologyAwareHints, corev1.AnnotationTopologyMode))
	}
	if svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		for i, ip := range svc.Spec.ClusterIPs {
			warnings = append(warnings, ipWarnings(specField("clusterIPs").Index(i), ip)...)
		}
	}
	warnings = append(warnings, headlessWarnings(svc)...)
	warnings = append(warnings, externalWarnings(svc)...)
	if svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ExternalName != "" {
		warnings = append(warnings, fmt.Sprintf("spec.externalName is ignored when spec.type is not %q", corev1.ServiceTypeExternalName))
	}
	if td := svc.Spec.TrafficDistribution; td != nil && *td == corev1.ServiceTrafficDistributionPreferClose {
		warnings = append(warnings, fmt.Sprintf("spec.trafficDistribution: %q is deprecated; use %q",
			corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone))
	}
	return warnings
}

// headlessWarnings: fields a headless ClusterIP Service ignores.
func headlessWarnings(svc *corev1.Service) []string {
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return nil
	}
	var warnings []string
	if svc.Spec.LoadBalancerIP != "" {
		warnings = append(warnings, "spec.loadBalancerIP is ignored for headless services")
	}
	if len(svc.Spec.ExternalIPs) > 0 {
		warnings = append(warnings, "spec.externalIPs is ignored for headless services")
	}
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityNone {
		warnings = append(warnings, "spec.SessionAffinity is ignored for headless services")
	}
	return warnings
}

// externalWarnings: non-standard IPs and CIDRs, and externalIPs use.
func externalWarnings(svc *corev1.Service) []string {
	var warnings []string
	for i, ip := range svc.Spec.ExternalIPs {
		warnings = append(warnings, ipWarnings(specField("externalIPs").Index(i), ip)...)
	}
	headless := svc.Spec.Type == corev1.ServiceTypeClusterIP && svc.Spec.ClusterIP == corev1.ClusterIPNone
	if len(svc.Spec.ExternalIPs) > 0 && !headless && svc.Spec.Type != corev1.ServiceTypeExternalName {
		warnings = append(warnings, "spec.externalIPs is deprecated and may no longer be implemented in some clusters")
	}
	if svc.Spec.LoadBalancerIP != "" {
		warnings = append(warnings, ipWarnings(specField("loadBalancerIP"), svc.Spec.LoadBalancerIP)...)
	}
	for i, cidr := range svc.Spec.LoadBalancerSourceRanges {
		warnings = append(warnings, cidrWarnings(specField("loadBalancerSourceRanges").Index(i), cidr)...)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName && len(svc.Spec.ExternalIPs) > 0 {
		warnings = append(warnings, fmt.Sprintf("spec.externalIPs is ignored when spec.type is %q", corev1.ServiceTypeExternalName))
	}
	return warnings
}

// StatusWarnings returns the warnings for a write of the status
// subresource: non-standard ingress IPs (reported at the ingress index,
// as upstream does).
func StatusWarnings(svc *corev1.Service) []string {
	var warnings []string
	p := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			warnings = append(warnings, ipWarnings(p.Index(i), ing.IP)...)
		}
	}
	return warnings
}

// ipWarnings warns about an IP in a non-standard form; unparsable values
// (which validation rejects) get none.
func ipWarnings(p *field.Path, ip string) []string {
	if netutils.ParseIPSloppy(ip) == nil {
		return nil
	}
	return validation.GetWarningsForIP(p, ip)
}

// cidrWarnings warns about a CIDR in a non-standard or ambiguous form.
func cidrWarnings(p *field.Path, cidr string) []string {
	if _, _, err := netutils.ParseCIDRSloppy(cidr); err != nil {
		return nil
	}
	return validation.GetWarningsForCIDR(p, cidr)
}
