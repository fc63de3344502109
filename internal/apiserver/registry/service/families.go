package service

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// InitIPFamilyFields sets spec.ipFamilyPolicy and spec.ipFamilies as the
// Service registry does before allocating cluster IPs (upstream's
// initIPFamilyFields); old is nil on create and never modified. The errors
// are what kube-apiserver answers with 422 at that point.
//
//   - ipFamilyPolicy: kept from old on update, RequireDualStack for a
//     headless Service without selector, else SingleStack.
//   - ipFamilies: inferred from given clusterIPs, else the cluster's primary
//     family; a non-SingleStack policy on a dual-stack cluster (or on any
//     cluster for headless without selector) adds the other family.
//   - a PreferDualStack Service updated without touching these fields is
//     left as it is, whatever the cluster's families are now.
func InitIPFamilyFields(svc, old *corev1.Service, cfg Config) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || isMatchingPreferDualStack(svc, old) {
		return nil
	}
	defaultIPFamilyPolicy(svc, old)
	if errs := validateClusterIPsRelatedFields(svc); len(errs) != 0 {
		return errs
	}
	var errs field.ErrorList
	if old != nil {
		errs = append(errs, applyPolicyToUpdate(svc, old)...)
	}
	errs = append(errs, validateSingleStackCounts(svc)...)
	errs = append(errs, inferFamiliesFromClusterIPs(svc, cfg)...)
	if len(errs) != 0 {
		return errs
	}
	if isHeadlessSelectorless(svc) {
		defaultHeadlessSelectorlessFamilies(svc, cfg)
		return nil
	}
	if errs := validateFamiliesConfigured(svc, cfg); len(errs) != 0 {
		return errs
	}
	defaultFamilies(svc, cfg)
	return nil
}

func defaultIPFamilyPolicy(svc, old *corev1.Service) {
	switch {
	case svc.Spec.IPFamilyPolicy != nil:
	case old != nil && old.Spec.IPFamilyPolicy != nil:
		svc.Spec.IPFamilyPolicy = policyPtr(*old.Spec.IPFamilyPolicy)
	case isHeadlessSelectorless(svc):
		svc.Spec.IPFamilyPolicy = policyPtr(corev1.IPFamilyPolicyRequireDualStack)
	default:
		svc.Spec.IPFamilyPolicy = policyPtr(corev1.IPFamilyPolicySingleStack)
	}
}

// applyPolicyToUpdate: SingleStack with unchanged clusterIPs/ipFamilies
// drops the secondary entries; any other policy may not drop them.
func applyPolicyToUpdate(svc, old *corev1.Service) field.ErrorList {
	if policyOf(svc) == corev1.IPFamilyPolicySingleStack {
		if sameClusterIPList(old, svc) && len(svc.Spec.ClusterIPs) > 1 {
			svc.Spec.ClusterIPs = slices.Clone(svc.Spec.ClusterIPs[:1])
		}
		if sameIPFamilies(old, svc) && len(svc.Spec.IPFamilies) > 1 {
			svc.Spec.IPFamilies = slices.Clone(svc.Spec.IPFamilies[:1])
		}
		return nil
	}
	var errs field.ErrorList
	p := specField("ipFamilyPolicy")
	if n := len(svc.Spec.ClusterIPs); n != 0 && n < len(old.Spec.ClusterIPs) {
		errs = append(errs, field.Invalid(p, svc.Spec.IPFamilyPolicy, "must be 'SingleStack' to release the secondary cluster IP"))
	}
	if n := len(svc.Spec.IPFamilies); n != 0 && n < len(old.Spec.IPFamilies) {
		errs = append(errs, field.Invalid(p, svc.Spec.IPFamilyPolicy, "must be 'SingleStack' to release the secondary IP family"))
	}
	return errs
}

// validateSingleStackCounts: SingleStack allows one clusterIP and family.
func validateSingleStackCounts(svc *corev1.Service) field.ErrorList {
	if policyOf(svc) != corev1.IPFamilyPolicySingleStack {
		return nil
	}
	var errs field.ErrorList
	p := specField("ipFamilyPolicy")
	if len(svc.Spec.ClusterIPs) == 2 {
		errs = append(errs, field.Invalid(p, svc.Spec.IPFamilyPolicy,
			"must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
	}
	if len(svc.Spec.IPFamilies) == 2 {
		errs = append(errs, field.Invalid(p, svc.Spec.IPFamilyPolicy,
			"must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
	}
	return errs
}

// inferFamiliesFromClusterIPs appends the family of each given clusterIP
// that has no ipFamilies entry yet; the family must be configured.
func inferFamiliesFromClusterIPs(svc *corev1.Service, cfg Config) field.ErrorList {
	var errs field.ErrorList
	for i, ip := range svc.Spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			break
		}
		if i < len(svc.Spec.IPFamilies) {
			continue
		}
		fam := familyOf(ip)
		if !cfg.has(fam) {
			msg := fmt.Sprintf("%s is not configured on this cluster", fam)
			errs = append(errs, field.Invalid(specField("clusterIPs").Index(i), svc.Spec.ClusterIPs, msg))
			continue
		}
		svc.Spec.IPFamilies = append(slices.Clip(svc.Spec.IPFamilies), fam)
	}
	return errs
}

// defaultHeadlessSelectorlessFamilies: such a Service may list both
// families even on a single-stack cluster.
func defaultHeadlessSelectorlessFamilies(svc *corev1.Service, cfg Config) {
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []corev1.IPFamily{cfg.primary()}
	}
	if len(svc.Spec.IPFamilies) < 2 && policyOf(svc) != corev1.IPFamilyPolicySingleStack {
		svc.Spec.IPFamilies = append(slices.Clip(svc.Spec.IPFamilies), otherFamily(svc.Spec.IPFamilies[0]))
	}
}

// validateFamiliesConfigured: RequireDualStack needs a dual-stack cluster,
// and every listed family must be configured.
func validateFamiliesConfigured(svc *corev1.Service, cfg Config) field.ErrorList {
	var errs field.ErrorList
	if policyOf(svc) == corev1.IPFamilyPolicyRequireDualStack && !cfg.dualStack() {
		errs = append(errs, field.Invalid(specField("ipFamilyPolicy"), svc.Spec.IPFamilyPolicy,
			"this cluster is not configured for dual-stack services"))
	}
	for i, fam := range svc.Spec.IPFamilies {
		if !cfg.has(fam) {
			errs = append(errs, field.Invalid(specField("ipFamilies").Index(i), fam, "not configured on this cluster"))
		}
	}
	return errs
}

// defaultFamilies: the primary family when none is given, plus the other
// one for a dual-stack policy on a dual-stack cluster.
func defaultFamilies(svc *corev1.Service, cfg Config) {
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []corev1.IPFamily{cfg.primary()}
	}
	if policyOf(svc) != corev1.IPFamilyPolicySingleStack && len(svc.Spec.IPFamilies) == 1 && cfg.dualStack() {
		svc.Spec.IPFamilies = append(slices.Clip(svc.Spec.IPFamilies), otherFamily(svc.Spec.IPFamilies[0]))
	}
}

// validateFamiliesForCluster repeats, on the final object, the
// cluster-dependent checks InitIPFamilyFields makes, so that Validate is
// complete on its own. Like InitIPFamilyFields it looks no further when
// the clusterIP fields are invalid in themselves.
func validateFamiliesForCluster(svc *corev1.Service, cfg Config) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || len(validateClusterIPsRelatedFields(svc)) != 0 {
		return nil
	}
	errs := validateSingleStackCounts(svc)
	if isHeadlessSelectorless(svc) {
		return errs
	}
	return append(errs, validateFamiliesConfigured(svc, cfg)...)
}

// isMatchingPreferDualStack says whether an update leaves a
// PreferDualStack Service's clusterIPs and ipFamilies as they are, in which
// case they are not re-derived from the cluster's current families.
func isMatchingPreferDualStack(svc, old *corev1.Service) bool {
	if old == nil || svc.Spec.IPFamilyPolicy == nil || old.Spec.Type != svc.Spec.Type {
		return false
	}
	if !hasClusterIPType(svc) {
		return false
	}
	if *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyPreferDualStack {
		return false
	}
	if old.Spec.IPFamilyPolicy != nil && *old.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyPreferDualStack {
		return false
	}
	return sameClusterIPList(old, svc) && sameIPFamilies(old, svc)
}
