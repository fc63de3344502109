package service

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// validateClusterIPsRelatedFields checks clusterIP, clusterIPs, ipFamilies
// and ipFamilyPolicy on their own (upstream's
// ValidateServiceClusterIPsRelatedFields). ExternalName is checked by
// validateExternalName instead.
func validateClusterIPsRelatedFields(svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	errs := validateClusterIPSync(svc)
	errs = append(errs, validateIPFamilyValues(svc)...)
	ipErrs := validateClusterIPValues(svc)
	errs = append(errs, ipErrs...)
	if len(svc.Spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(specField("clusterIPs"), svc.Spec.ClusterIPs, "may only hold up to 2 values"))
	}
	// Bad IPs would skew the dual-stack and family checks.
	if len(ipErrs) > 0 {
		return errs
	}
	errs = append(errs, validateClusterIPsDualStack(svc)...)
	return append(errs, validateClusterIPsMatchFamilies(svc)...)
}

// validateClusterIPSync: clusterIPs[0] must be clusterIP, and clusterIPs
// must be empty without clusterIP.
func validateClusterIPSync(svc *corev1.Service) field.ErrorList {
	p := specField("clusterIPs")
	switch {
	case svc.Spec.ClusterIP != "" && len(svc.Spec.ClusterIPs) == 0:
		return field.ErrorList{field.Required(p, "")}
	case svc.Spec.ClusterIP != "" && svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP:
		return field.ErrorList{field.Invalid(p, svc.Spec.ClusterIPs, "first value must match `clusterIP`")}
	case svc.Spec.ClusterIP == "" && len(svc.Spec.ClusterIPs) != 0:
		return field.ErrorList{field.Invalid(p, svc.Spec.ClusterIPs, "must be empty when `clusterIP` is not specified")}
	}
	return nil
}

// validateIPFamilyValues checks the ipFamilies and ipFamilyPolicy enums.
func validateIPFamilyValues(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	families := []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	seen := sets.New[corev1.IPFamily]()
	for i, fam := range svc.Spec.IPFamilies {
		p := specField("ipFamilies").Index(i)
		if !slices.Contains(families, fam) {
			errs = append(errs, field.NotSupported(p, fam, families))
		}
		if seen.Has(fam) {
			errs = append(errs, field.Duplicate(p, fam))
		}
		seen.Insert(fam)
	}
	policies := []corev1.IPFamilyPolicy{corev1.IPFamilyPolicyPreferDualStack,
		corev1.IPFamilyPolicyRequireDualStack, corev1.IPFamilyPolicySingleStack}
	if svc.Spec.IPFamilyPolicy != nil && !slices.Contains(policies, *svc.Spec.IPFamilyPolicy) {
		errs = append(errs, field.NotSupported(specField("ipFamilyPolicy"), svc.Spec.IPFamilyPolicy, policies))
	}
	return errs
}

// validateClusterIPValues checks each clusterIPs entry is an IP, or "None"
// as the only value.
func validateClusterIPValues(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := specField("clusterIPs")
	for i, ip := range svc.Spec.ClusterIPs {
		if i == 0 && ip == corev1.ClusterIPNone {
			if len(svc.Spec.ClusterIPs) > 1 {
				errs = append(errs, field.Invalid(p, svc.Spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		errs = append(errs, isValidLegacyIP(p.Index(i), ip)...)
	}
	return errs
}

// isValidLegacyIP validates an IP of a field that predates strict IP
// validation, as kube-apiserver does with StrictIPCIDRValidation off (the
// 1.32 behaviour: leading zeros and IPv4-mapped IPv6 tolerated).
func isValidLegacyIP(p *field.Path, ip string) field.ErrorList {
	return validation.IsValidIPForLegacyField(p, ip, false, nil)
}

// validateClusterIPsDualStack: two clusterIPs must be of two families.
func validateClusterIPsDualStack(svc *corev1.Service) field.ErrorList {
	if len(svc.Spec.ClusterIPs) < 2 {
		return nil
	}
	p := specField("clusterIPs")
	dual, err := netutils.IsDualStackIPStrings(svc.Spec.ClusterIPs)
	if err != nil {
		return field.ErrorList{field.InternalError(p, fmt.Errorf("failed to check for dual stack with error:%v", err))}
	}
	if !dual {
		return field.ErrorList{field.Invalid(p, svc.Spec.ClusterIPs, "may specify no more than one IP for each IP family")}
	}
	return nil
}

// validateClusterIPsMatchFamilies: clusterIPs[i] must be of ipFamilies[i].
func validateClusterIPsMatchFamilies(svc *corev1.Service) field.ErrorList {
	if isHeadless(svc) {
		return nil
	}
	var errs field.ErrorList
	for i, ip := range svc.Spec.ClusterIPs {
		if i >= len(svc.Spec.IPFamilies) {
			break
		}
		fam := svc.Spec.IPFamilies[i]
		isV6 := netutils.IsIPv6String(ip)
		if (fam == corev1.IPv4Protocol && isV6) || (fam == corev1.IPv6Protocol && !isV6) {
			msg := fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%v]`", fam, i)
			errs = append(errs, field.Invalid(specField("clusterIPs").Index(i), ip, msg))
		}
	}
	return errs
}
