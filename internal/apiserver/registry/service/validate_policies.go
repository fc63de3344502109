package service

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxClientIPAffinitySeconds is the upper bound of
// sessionAffinityConfig.clientIP.timeoutSeconds (one day).
const maxClientIPAffinitySeconds = 86400

// validateTopologyAnnotations: the topology-mode annotation must agree with
// the deprecated topology-aware-hints one when both are set.
func validateTopologyAnnotations(svc *corev1.Service) field.ErrorList {
	hints, hintsSet := svc.Annotations[corev1.DeprecatedAnnotationTopologyAwareHints]
	mode, modeSet := svc.Annotations[corev1.AnnotationTopologyMode]
	if !modeSet || !hintsSet || mode == hints {
		return nil
	}
	p := field.NewPath("metadata", "annotations").Key(corev1.AnnotationTopologyMode)
	msg := fmt.Sprintf("must match annotations[%s] when both are specified", corev1.DeprecatedAnnotationTopologyAwareHints)
	return field.ErrorList{field.Invalid(p, mode, msg)}
}

// validateSessionAffinity: ClientIP needs a timeout in (0, 86400], None
// forbids sessionAffinityConfig.
func validateSessionAffinity(svc *corev1.Service) field.ErrorList {
	supported := []corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone}
	errs := requiredEnum(specField("sessionAffinity"), svc.Spec.SessionAffinity, supported)
	p := specField("sessionAffinityConfig")
	switch svc.Spec.SessionAffinity {
	case corev1.ServiceAffinityClientIP:
		errs = append(errs, validateClientIPAffinityConfig(svc.Spec.SessionAffinityConfig, p)...)
	case corev1.ServiceAffinityNone:
		if svc.Spec.SessionAffinityConfig != nil {
			msg := fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone)
			errs = append(errs, field.Forbidden(p, msg))
		}
	}
	return errs
}

func validateClientIPAffinityConfig(cfg *corev1.SessionAffinityConfig, p *field.Path) field.ErrorList {
	msg := fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP)
	switch {
	case cfg == nil:
		return field.ErrorList{field.Required(p, msg)}
	case cfg.ClientIP == nil:
		return field.ErrorList{field.Required(p.Child("clientIP"), msg)}
	case cfg.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(p.Child("clientIP", "timeoutSeconds"), msg)}
	}
	timeout := cfg.ClientIP.TimeoutSeconds
	if *timeout <= 0 || *timeout > maxClientIPAffinitySeconds {
		msg := fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds)
		return field.ErrorList{field.Invalid(p.Child("clientIP", "timeoutSeconds"), timeout, msg)}
	}
	return nil
}

// validateExternalTrafficPolicy: externalTrafficPolicy is required for
// externally accessible Services and forbidden otherwise;
// healthCheckNodePort is required for LoadBalancer with Local and
// forbidden otherwise.
func validateExternalTrafficPolicy(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := specField("externalTrafficPolicy")
	policy := svc.Spec.ExternalTrafficPolicy
	if !externallyAccessible(svc) {
		if policy != "" {
			errs = append(errs, field.Invalid(p, policy, "may only be set for externally-accessible services"))
		}
	} else {
		supported := []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster,
			corev1.ServiceExternalTrafficPolicyLocal}
		errs = append(errs, requiredEnum(p, policy, supported)...)
	}
	return append(errs, validateHealthCheckNodePort(svc)...)
}

func validateHealthCheckNodePort(svc *corev1.Service) field.ErrorList {
	p := specField("healthCheckNodePort")
	port := svc.Spec.HealthCheckNodePort
	switch {
	case !needsHealthCheck(svc) && port != 0:
		return field.ErrorList{field.Invalid(p, port,
			"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")}
	case needsHealthCheck(svc) && port == 0:
		return field.ErrorList{field.Required(p, "")}
	case needsHealthCheck(svc):
		return invalidEach(p, port, validation.IsValidPortNum(int(port)))
	}
	return nil
}

// validateInternalTrafficPolicy: required (Default sets it) for every type
// but ExternalName, and one of Cluster and Local when set.
func validateInternalTrafficPolicy(svc *corev1.Service) field.ErrorList {
	p := specField("internalTrafficPolicy")
	policy := svc.Spec.InternalTrafficPolicy
	if policy == nil {
		if hasClusterIPType(svc) {
			return field.ErrorList{field.Required(p, "")}
		}
		return nil
	}
	supported := []corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster,
		corev1.ServiceInternalTrafficPolicyLocal}
	if *policy != supported[0] && *policy != supported[1] {
		return field.ErrorList{field.NotSupported(p, *policy, supported)}
	}
	return nil
}

// validateTrafficDistribution accepts PreferClose and, as upstream since
// KEP-3015, PreferSameZone and PreferSameNode.
func validateTrafficDistribution(svc *corev1.Service) field.ErrorList {
	td := svc.Spec.TrafficDistribution
	if td == nil {
		return nil
	}
	supported := []string{corev1.ServiceTrafficDistributionPreferClose,
		corev1.ServiceTrafficDistributionPreferSameNode, corev1.ServiceTrafficDistributionPreferSameZone}
	for _, s := range supported {
		if *td == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(specField("trafficDistribution"), *td, supported)}
}
