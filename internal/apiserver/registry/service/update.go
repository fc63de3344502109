package service

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// BeginCreate prepares a new Service for allocation, as the registry's
// create hook does: it syncs clusterIPs with clusterIP and initialises
// ipFamilyPolicy and ipFamilies. Errors mean 422 Invalid. Afterwards
// spec.ipFamilies lists the families to allocate (clusterIPs[i] for
// ipFamilies[i]; a given IP is a request for that IP), except for
// ExternalName and headless Services, which get none.
func BeginCreate(svc *corev1.Service, cfg Config) field.ErrorList {
	NormalizeClusterIPs(svc, nil)
	return InitIPFamilyFields(svc, nil, cfg)
}

// BeginUpdate prepares an update for allocation, as the registry's update
// hook does: PatchAllocatedValues, then the clusterIP(s) sync, then
// InitIPFamilyFields. old is not modified. Errors mean 422 Invalid.
func BeginUpdate(svc, old *corev1.Service, cfg Config) field.ErrorList {
	PatchAllocatedValues(svc, old)
	NormalizeClusterIPs(svc, old)
	return InitIPFamilyFields(svc, old, cfg)
}

// NormalizeClusterIPs keeps clusterIP and clusterIPs in step for clients
// that set only the singular field (old is nil on create): clusterIPs is
// filled from clusterIP, kept from old when omitted, cleared with
// clusterIP, or replaced when only clusterIP changed. Anything else is left
// for validation to judge.
func NormalizeClusterIPs(svc, old *corev1.Service) {
	if old == nil {
		if svc.Spec.ClusterIP != "" && len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
		return
	}
	if len(old.Spec.ClusterIPs) > 0 && len(svc.Spec.ClusterIPs) == 0 && old.Spec.ClusterIP == svc.Spec.ClusterIP {
		svc.Spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
	}
	if old.Spec.ClusterIP == svc.Spec.ClusterIP || !sameClusterIPList(old, svc) {
		return
	}
	if old.Spec.ClusterIP != "" && svc.Spec.ClusterIP == "" {
		svc.Spec.ClusterIPs = nil
	} else {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
}

// PatchAllocatedValues copies into an update the values the server
// allocated that the client left out, while the type still uses them:
// clusterIP and clusterIPs, nodePorts (matched by port name, unless the
// number is used by another port) and healthCheckNodePort. Re-applying a
// manifest without them is then not a change. old is not modified.
func PatchAllocatedValues(svc, old *corev1.Service) {
	if needsClusterIP(old) && needsClusterIP(svc) {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 && len(old.Spec.ClusterIPs) > 0 {
			svc.Spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
		}
	}
	if needsNodePort(old) && needsNodePort(svc) {
		patchNodePorts(svc, old)
	}
	if needsHealthCheck(old) && needsHealthCheck(svc) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}

func patchNodePorts(svc, old *corev1.Service) {
	used := nodePortSet(old).Intersection(nodePortSet(svc))
	byName := map[string]int32{}
	for _, p := range old.Spec.Ports {
		byName[p.Name] = p.NodePort
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && !used.Has(byName[p.Name]) {
			p.NodePort = byName[p.Name]
		}
	}
}

// nodePortSet returns the nodePorts in use.
func nodePortSet(svc *corev1.Service) sets.Set[int32] {
	used := sets.New[int32]()
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			used.Insert(p.NodePort)
		}
	}
	return used
}

// DropTypeDependentFields clears, on a type change, the fields the new type
// does not use, when the client left them as they were (a changed value is
// left for validation to reject): clusterIP(s), ipFamilies and
// ipFamilyPolicy for ExternalName; nodePorts without NodePort/LoadBalancer;
// healthCheckNodePort without LoadBalancer+Local; allocateLoadBalancerNodePorts
// and loadBalancerClass without LoadBalancer; externalTrafficPolicy when no
// longer externally accessible; status.loadBalancer without LoadBalancer.
// The allocator releases what was allocated. old is not modified.
func DropTypeDependentFields(svc, old *corev1.Service) {
	if needsClusterIP(old) && !needsClusterIP(svc) {
		dropClusterIPFields(svc, old)
	}
	if needsNodePort(old) && !needsNodePort(svc) && nodePortSet(old).IsSuperset(nodePortSet(svc)) {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}
	if needsHealthCheck(old) && !needsHealthCheck(svc) && old.Spec.HealthCheckNodePort == svc.Spec.HealthCheckNodePort {
		svc.Spec.HealthCheckNodePort = 0
	}
	if old.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		dropLoadBalancerFields(svc, old)
	}
	if externallyAccessible(old) && !externallyAccessible(svc) &&
		old.Spec.ExternalTrafficPolicy == svc.Spec.ExternalTrafficPolicy {
		svc.Spec.ExternalTrafficPolicy = ""
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
}

func dropClusterIPFields(svc, old *corev1.Service) {
	if sameClusterIPs(old, svc) {
		svc.Spec.ClusterIP = ""
		svc.Spec.ClusterIPs = nil
	}
	if sameIPFamilies(old, svc) {
		svc.Spec.IPFamilies = nil
	}
	if policyOf(old) == policyOf(svc) {
		svc.Spec.IPFamilyPolicy = nil
	}
}

func dropLoadBalancerFields(svc, old *corev1.Service) {
	oldAlloc, newAlloc := old.Spec.AllocateLoadBalancerNodePorts, svc.Spec.AllocateLoadBalancerNodePorts
	if oldAlloc != nil && newAlloc != nil && *oldAlloc == *newAlloc {
		svc.Spec.AllocateLoadBalancerNodePorts = nil
	}
	if sameLoadBalancerClass(old, svc) {
		svc.Spec.LoadBalancerClass = nil
	}
}
