package service

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateUpgradeDowngradeClusterIPs: a secondary clusterIP may be added or
// (with ipFamilyPolicy SingleStack) removed, but no clusterIP may change.
// Changes from, to or within ExternalName and between headless Services
// are not checked.
func validateUpgradeDowngradeClusterIPs(old, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || old.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadless(old) && isHeadless(svc) {
		return nil
	}
	oldIPs, newIPs := old.Spec.ClusterIPs, svc.Spec.ClusterIPs
	p := specField("clusterIPs")
	var errs field.ErrorList
	switch {
	case len(oldIPs) == len(newIPs):
		for i, ip := range oldIPs {
			if ip != newIPs[i] {
				errs = append(errs, field.Invalid(p.Index(i), newIPs, "may not change once set"))
			}
		}
	case len(oldIPs) > len(newIPs):
		errs = append(errs, validateReleasedClusterIPs(old, svc)...)
	case len(oldIPs) > 0 && newIPs[0] != oldIPs[0]:
		errs = append(errs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
	}
	return errs
}

// validateReleasedClusterIPs checks an update that drops clusterIPs.
func validateReleasedClusterIPs(old, svc *corev1.Service) field.ErrorList {
	oldIPs, newIPs := old.Spec.ClusterIPs, svc.Spec.ClusterIPs
	p := specField("clusterIPs")
	var errs field.ErrorList
	if len(newIPs) == 0 {
		errs = append(errs, field.Invalid(p.Index(0), newIPs, "primary clusterIP can not be unset"))
	}
	if len(newIPs) > 0 && newIPs[0] != oldIPs[0] {
		errs = append(errs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
	}
	if len(newIPs) == 1 && policyOf(svc) != corev1.IPFamilyPolicySingleStack {
		errs = append(errs, field.Invalid(specField("ipFamilyPolicy"), svc.Spec.IPFamilyPolicy,
			"must be set to 'SingleStack' when releasing the secondary clusterIP"))
	}
	return errs
}

// validateUpgradeDowngradeIPFamilies: a secondary family may be added or
// (with SingleStack) removed, but the primary family may not change.
// ExternalName and headless Services, and changes to or from headless, are
// not checked.
func validateUpgradeDowngradeIPFamilies(old, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || old.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadless(old) || isHeadless(svc) {
		return nil
	}
	oldFams, newFams := old.Spec.IPFamilies, svc.Spec.IPFamilies
	p := specField("ipFamilies").Index(0)
	var errs field.ErrorList
	switch {
	case len(oldFams) == len(newFams):
		for i, fam := range oldFams {
			if fam != newFams[i] {
				// upstream reports every changed entry at index 0
				errs = append(errs, field.Invalid(p, newFams, "may not change once set"))
			}
		}
	case len(oldFams) > len(newFams):
		errs = append(errs, validateReleasedIPFamilies(old, svc)...)
	case len(oldFams) > 0 && len(newFams) > 0 && newFams[0] != oldFams[0]:
		// upstream reports clusterIPs as the value here
		errs = append(errs, field.Invalid(p, svc.Spec.ClusterIPs, "may not change once set"))
	}
	return errs
}

// validateReleasedIPFamilies checks an update that drops ipFamilies.
func validateReleasedIPFamilies(old, svc *corev1.Service) field.ErrorList {
	newFams := svc.Spec.IPFamilies
	p := specField("ipFamilies").Index(0)
	var errs field.ErrorList
	if len(svc.Spec.ClusterIPs) == 0 {
		errs = append(errs, field.Invalid(p, newFams, "primary ipFamily can not be unset"))
	}
	if len(newFams) > 0 && newFams[0] != old.Spec.IPFamilies[0] {
		errs = append(errs, field.Invalid(p, svc.Spec.ClusterIPs, "may not change once set"))
	}
	if len(newFams) == 1 && policyOf(svc) != corev1.IPFamilyPolicySingleStack {
		errs = append(errs, field.Invalid(specField("ipFamilyPolicy"), svc.Spec.IPFamilyPolicy,
			"must be set to 'SingleStack' when releasing the secondary ipFamily"))
	}
	return errs
}

// validateHealthCheckNodePortUpdate: healthCheckNodePort is immutable while
// both old and new need one.
func validateHealthCheckNodePortUpdate(old, svc *corev1.Service) field.ErrorList {
	if needsHealthCheck(old) && needsHealthCheck(svc) && old.Spec.HealthCheckNodePort != svc.Spec.HealthCheckNodePort {
		return field.ErrorList{field.Forbidden(specField("healthCheckNodePort"), "field is immutable")}
	}
	return nil
}
