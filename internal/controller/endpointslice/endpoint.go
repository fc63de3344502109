package endpointslice

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// podEndpoint is the endpoint of a pod in a slice of address type t, and
// false when the pod has no IP of that type. node may be nil.
func podEndpoint(svc *corev1.Service, pod *corev1.Pod, node *corev1.Node, t discoveryv1.AddressType) (discoveryv1.Endpoint, bool) {
	ip, ok := endpointutil.PodIPOfType(pod, t)
	if !ok {
		return discoveryv1.Endpoint{}, false
	}
	serving := endpointutil.IsPodReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  []string{ip.String()},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  endpointutil.TargetRef(pod),
	}
	if pod.Spec.NodeName != "" {
		nodeName := pod.Spec.NodeName
		ep.NodeName = &nodeName
	}
	if node != nil && node.Labels[corev1.LabelTopologyZone] != "" {
		zone := node.Labels[corev1.LabelTopologyZone]
		ep.Zone = &zone
	}
	if endpointutil.ShouldSetHostname(pod, svc) {
		hostname := pod.Spec.Hostname
		ep.Hostname = &hostname
	}
	ep.Hints = hints(svc, &ep)
	return ep, true
}

// endpointPorts lists the ports of a pod's endpoint: each Service port the
// pod resolves; none for a headless Service without ports.
func endpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	ports := []discoveryv1.EndpointPort{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		n, ok := endpointutil.FindPort(pod, sp)
		if !ok {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		ports = append(ports, discoveryv1.EndpointPort{Name: &name, Port: &n, Protocol: &proto, AppProtocol: sp.AppProtocol})
	}
	return ports
}

// hints returns the routing hints of a ready endpoint under the Service's
// trafficDistribution: its own zone for PreferClose and PreferSameZone,
// and its own node too for PreferSameNode. Services using the
// topology-mode annotation get none (proportional zone hints are not
// implemented), nor do endpoints that are not ready.
func hints(svc *corev1.Service, ep *discoveryv1.Endpoint) *discoveryv1.EndpointHints {
	td := svc.Spec.TrafficDistribution
	if td == nil || topologyModeAuto(svc.Annotations) || !*ep.Conditions.Ready {
		return nil
	}
	var h discoveryv1.EndpointHints
	switch *td {
	case corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone:
	case corev1.ServiceTrafficDistributionPreferSameNode:
		if ep.NodeName != nil {
			h.ForNodes = []discoveryv1.ForNode{{Name: *ep.NodeName}}
		}
	default:
		return nil
	}
	if ep.Zone != nil {
		h.ForZones = []discoveryv1.ForZone{{Name: *ep.Zone}}
	}
	if h.ForZones == nil && h.ForNodes == nil {
		return nil
	}
	return &h
}

// topologyModeAuto reports whether the Service asks for topology-aware
// hints through its annotations (the deprecated one winning).
func topologyModeAuto(annotations map[string]string) bool {
	v, ok := annotations[corev1.DeprecatedAnnotationTopologyAwareHints]
	if !ok {
		v = annotations[corev1.AnnotationTopologyMode]
	}
	return v == "Auto" || v == "auto"
}
