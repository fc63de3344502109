package service

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

const lbOnly = "may only be used when `type` is 'LoadBalancer'"

// validateExternalName: an ExternalName Service has no clusterIPs, no IP
// family fields, and a DNS-1123 subdomain (trailing dot allowed) as
// externalName.
func validateExternalName(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	const forbidden = "may not be set for ExternalName services"
	if len(svc.Spec.ClusterIPs) > 0 {
		errs = append(errs, field.Forbidden(specField("clusterIPs"), forbidden))
	}
	if len(svc.Spec.IPFamilies) > 0 {
		errs = append(errs, field.Forbidden(specField("ipFamilies"), forbidden))
	}
	if svc.Spec.IPFamilyPolicy != nil {
		errs = append(errs, field.Forbidden(specField("ipFamilyPolicy"), forbidden))
	}
	p := specField("externalName")
	cname := strings.TrimSuffix(svc.Spec.ExternalName, ".")
	if cname == "" {
		return append(errs, field.Required(p, ""))
	}
	return append(errs, invalidEach(p, cname, validation.IsDNS1123Subdomain(cname))...)
}

// validateExternalIPs: valid IPs, none of them special.
func validateExternalIPs(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	for i, ip := range svc.Spec.ExternalIPs {
		p := specField("externalIPs").Index(i)
		if ipErrs := isValidLegacyIP(p, ip); len(ipErrs) != 0 {
			errs = append(errs, ipErrs...)
			continue
		}
		errs = append(errs, ValidateNonSpecialIP(ip, p)...)
	}
	return errs
}

// ValidateNonSpecialIP rejects unspecified, loopback and link-local
// addresses, as upstream does for externalIPs and endpoint addresses.
func ValidateNonSpecialIP(ipAddress string, p *field.Path) field.ErrorList {
	ip := netutils.ParseIPSloppy(ipAddress)
	if ip == nil {
		return field.ErrorList{field.Invalid(p, ipAddress, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(p, ipAddress, fmt.Sprintf("may not be unspecified (%v)", ipAddress)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(p, ipAddress, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(p, ipAddress, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(p, ipAddress, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

// validateSourceRanges checks loadBalancerSourceRanges, or when that is
// empty the legacy annotation: LoadBalancer only, valid CIDRs (space
// padding tolerated). The field path's capital L is upstream's.
func validateSourceRanges(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	if len(svc.Spec.LoadBalancerSourceRanges) > 0 {
		p := specField("LoadBalancerSourceRanges")
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(p, lbOnly))
		}
		for i, cidr := range svc.Spec.LoadBalancerSourceRanges {
			errs = append(errs, isValidLegacyCIDR(p.Index(i), strings.TrimSpace(cidr))...)
		}
		return errs
	}
	val, ok := svc.Annotations[corev1.AnnotationLoadBalancerSourceRangesKey]
	if !ok {
		return nil
	}
	p := field.NewPath("metadata", "annotations").Key(corev1.AnnotationLoadBalancerSourceRangesKey)
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(p, lbOnly))
	}
	if val = strings.TrimSpace(val); val == "" {
		return errs
	}
	for _, cidr := range strings.Split(val, ",") {
		errs = append(errs, isValidLegacyCIDR(p, strings.TrimSpace(cidr))...)
	}
	return errs
}

// isValidLegacyCIDR validates a CIDR as kube-apiserver does with
// StrictIPCIDRValidation off.
func isValidLegacyCIDR(p *field.Path, cidr string) field.ErrorList {
	return validation.IsValidCIDRForLegacyField(p, cidr, false, nil)
}

// validateAllocateLoadBalancerNodePorts: LoadBalancer only, and required
// there (Default sets it). The path without "spec." is upstream's.
func validateAllocateLoadBalancerNodePorts(svc *corev1.Service) field.ErrorList {
	isLB := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	switch {
	case svc.Spec.AllocateLoadBalancerNodePorts != nil && !isLB:
		return field.ErrorList{field.Forbidden(specField("allocateLoadBalancerNodePorts"), lbOnly)}
	case svc.Spec.AllocateLoadBalancerNodePorts == nil && isLB:
		return field.ErrorList{field.Required(field.NewPath("allocateLoadBalancerNodePorts"), "")}
	}
	return nil
}

// validateLoadBalancerClass: LoadBalancer only, a qualified name, and
// immutable while the Service stays a LoadBalancer (old is nil on create).
func validateLoadBalancerClass(old, svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := specField("loadBalancerClass")
	isLB := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	if old != nil && isLB && old.Spec.Type == corev1.ServiceTypeLoadBalancer && !sameLoadBalancerClass(old, svc) {
		errs = append(errs, field.Invalid(p, svc.Spec.LoadBalancerClass, "may not change once set"))
	}
	switch class := svc.Spec.LoadBalancerClass; {
	case class != nil && isLB:
		errs = append(errs, invalidEach(p, *class, content.IsLabelKey(*class))...)
	case class != nil:
		errs = append(errs, field.Forbidden(p, lbOnly))
	}
	return errs
}

func sameLoadBalancerClass(a, b *corev1.Service) bool {
	x, y := a.Spec.LoadBalancerClass, b.Spec.LoadBalancerClass
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return *x == *y
}

// validateLoadBalancerStatus checks status.loadBalancer: ingress only for
// LoadBalancer Services, valid IPs with an ipMode, DNS hostnames.
func validateLoadBalancerStatus(status *corev1.LoadBalancerStatus, p *field.Path, spec *corev1.ServiceSpec) field.ErrorList {
	ingPath := p.Child("ingress")
	if spec.Type != corev1.ServiceTypeLoadBalancer && len(status.Ingress) != 0 {
		return field.ErrorList{field.Forbidden(ingPath, "may only be used when `spec.type` is 'LoadBalancer'")}
	}
	var errs field.ErrorList
	for i := range status.Ingress {
		errs = append(errs, validateIngress(&status.Ingress[i], ingPath.Index(i))...)
	}
	return errs
}

func validateIngress(ing *corev1.LoadBalancerIngress, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ing.IP != "" {
		errs = append(errs, isValidLegacyIP(p.Child("ip"), ing.IP)...)
	}
	modes := []corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP}
	switch {
	case ing.IPMode == nil && ing.IP != "":
		errs = append(errs, field.Required(p.Child("ipMode"), "must be specified when `ip` is set"))
	case ing.IPMode != nil && ing.IP == "":
		errs = append(errs, field.Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"))
	case ing.IPMode != nil && *ing.IPMode != modes[0] && *ing.IPMode != modes[1]:
		errs = append(errs, field.NotSupported(p.Child("ipMode"), ing.IPMode, modes))
	}
	if ing.Hostname != "" {
		errs = append(errs, invalidEach(p.Child("hostname"), ing.Hostname, validation.IsDNS1123Subdomain(ing.Hostname))...)
		if netutils.ParseIPSloppy(ing.Hostname) != nil {
			errs = append(errs, field.Invalid(p.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
		}
	}
	return errs
}
