package service

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// specField returns the path of a field under spec.
func specField(name string, more ...string) *field.Path {
	return field.NewPath("spec", append([]string{name}, more...)...)
}

// ValidateName is the name rule of Services (a DNS-1035 label), for the
// REST layer's ObjectMeta validation (apimachinery ValidateObjectMeta).
func ValidateName(name string, prefix bool) []string {
	return apivalidation.NameIsDNS1035Label(name, prefix)
}

// Validate checks a Service to be created, after Default, BeginCreate and
// allocation: upstream's ValidateService (metadata excepted, which the REST
// layer checks with ValidateName) plus the cluster-dependent ipFamilies
// checks the registry makes while allocating. When BeginCreate has run,
// those checks have already passed and cannot report twice.
func Validate(svc *corev1.Service, cfg Config) field.ErrorList {
	errs := validateService(svc)
	return append(errs, validateFamiliesForCluster(svc, cfg)...)
}

// ValidateUpdate checks an update of old to svc, after Default,
// BeginUpdate, allocation and PrepareForUpdate: upstream's
// ValidateServiceUpdate (metadata excepted) plus the cluster-dependent
// ipFamilies checks.
func ValidateUpdate(svc, old *corev1.Service, cfg Config) field.ErrorList {
	errs := validateUpgradeDowngradeClusterIPs(old, svc)
	errs = append(errs, validateUpgradeDowngradeIPFamilies(old, svc)...)
	errs = append(errs, validateLoadBalancerClass(old, svc)...)
	errs = append(errs, validateHealthCheckNodePortUpdate(old, svc)...)
	errs = append(errs, validateService(svc)...)
	if !isMatchingPreferDualStack(svc, old) {
		errs = append(errs, validateFamiliesForCluster(svc, cfg)...)
	}
	return errs
}

// ValidateStatusUpdate checks a write of the status subresource (metadata
// excepted).
func ValidateStatusUpdate(svc, old *corev1.Service) field.ErrorList {
	return validateLoadBalancerStatus(&svc.Status.LoadBalancer, field.NewPath("status", "loadBalancer"), &svc.Spec)
}

// serviceChecks returns ValidateService's checks in upstream's order, which
// is the order errors are reported in.
func serviceChecks() []func(*corev1.Service) field.ErrorList {
	return []func(*corev1.Service) field.ErrorList{
		validateTopologyAnnotations,
		validatePortsRequired,
		validateTypeSpecificFields,
		validatePorts,
		validateSelector,
		validateSessionAffinity,
		validateClusterIPsRelatedFields,
		validateExternalIPs,
		validateType,
		validateNodePortsForClusterIP,
		validateUniqueNodePorts,
		validateUniquePorts,
		validateSourceRanges,
		validateAllocateLoadBalancerNodePorts,
		func(svc *corev1.Service) field.ErrorList { return validateLoadBalancerClass(nil, svc) },
		validateExternalTrafficPolicy,
		validateInternalTrafficPolicy,
		validateTrafficDistribution,
	}
}

func validateService(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	for _, check := range serviceChecks() {
		errs = append(errs, check(svc)...)
	}
	return errs
}

func validateType(svc *corev1.Service) field.ErrorList {
	supported := []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}
	return requiredEnum(specField("type"), svc.Spec.Type, supported)
}

// requiredEnum reports an empty value as required and any value not in
// supported (sorted, as upstream lists them) as unsupported.
func requiredEnum[T ~string](p *field.Path, value T, supported []T) field.ErrorList {
	switch {
	case value == "":
		return field.ErrorList{field.Required(p, "")}
	case !slices.Contains(supported, value):
		return field.ErrorList{field.NotSupported(p, value, supported)}
	}
	return nil
}

// validateTypeSpecificFields rejects headless NodePort and LoadBalancer
// Services and checks the ExternalName fields.
func validateTypeSpecificFields(svc *corev1.Service) field.ErrorList {
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		if isHeadless(svc) {
			msg := fmt.Sprintf("may not be set to 'None' for %s services", svc.Spec.Type)
			return field.ErrorList{field.Invalid(specField("clusterIPs").Index(0), svc.Spec.ClusterIPs[0], msg)}
		}
	case corev1.ServiceTypeExternalName:
		return validateExternalName(svc)
	}
	return nil
}

func validateSelector(svc *corev1.Service) field.ErrorList {
	if svc.Spec.Selector == nil {
		return nil
	}
	return metav1validation.ValidateLabels(svc.Spec.Selector, specField("selector"))
}
