package resourcequota

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The name sets of upstream's core helpers.

func standardQuotaResource(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage,
		corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
		corev1.ResourceLimitsEphemeralStorage, corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices,
		corev1.ResourceReplicationControllers, corev1.ResourceSecrets, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceConfigMaps, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers:
		return true
	}
	return hugePages(name)
}

func standardResource(name corev1.ResourceName) bool {
	return standardQuotaResource(name) || name == corev1.ResourceStorage
}

// hugePages says whether name is hugepages-X or requests.hugepages-X.
func hugePages(name corev1.ResourceName) bool {
	n := strings.TrimPrefix(string(name), corev1.DefaultResourceRequestsPrefix)
	return strings.HasPrefix(n, corev1.ResourceHugePagesPrefix)
}

func integerResource(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers:
		return true
	}
	return extended(name)
}

// extended says whether name is an extended resource: outside the
// kubernetes.io namespace, not requests.-prefixed, with a namespace.
func extended(name corev1.ResourceName) bool {
	n := string(name)
	if !strings.Contains(n, "/") || strings.HasPrefix(n, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	ns := n[:strings.Index(n, "/")]
	return ns != "kubernetes.io" && !strings.HasSuffix(ns, ".kubernetes.io")
}

// scopeValid says whether a quota with scope may limit resource, as
// upstream's IsResourceQuotaScopeValidForResource.
func scopeValid(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	podCompute := name == corev1.ResourcePods || name == corev1.ResourceCPU || name == corev1.ResourceMemory ||
		name == corev1.ResourceLimitsCPU || name == corev1.ResourceLimitsMemory ||
		name == corev1.ResourceRequestsCPU || name == corev1.ResourceRequestsMemory
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return podCompute
	case corev1.ResourceQuotaScopeBestEffort:
		return name == corev1.ResourcePods
	}
	return true
}

func standardScope(scope corev1.ResourceQuotaScope) bool {
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeBestEffort,
		corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return true
	}
	return false
}
