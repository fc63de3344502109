package cluster

// transform.go: informer transforms that trim API objects to the fields
// DNS reads before the informers store them, as CoreDNS's object package
// does, so the informer caches cost little memory. Each returns a new,
// smaller object of the same type (the informer machinery still needs
// names and resource versions), and is idempotent.

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// trim is the cache.TransformFunc of every informer; other types pass.
func trim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Service:
		return trimService(o), nil
	case *discoveryv1.EndpointSlice:
		return trimEndpointSlice(o), nil
	case *corev1.Namespace:
		return &corev1.Namespace{ObjectMeta: trimMeta(o.ObjectMeta)}, nil
	case *corev1.Pod:
		return trimPod(o), nil
	}
	return obj, nil
}

// trimMeta keeps what identifies an object.
func trimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
}

// trimService keeps type, cluster IPs, ports, externalName and
// publishNotReadyAddresses (and its legacy annotation).
func trimService(s *corev1.Service) *corev1.Service {
	out := &corev1.Service{ObjectMeta: trimMeta(s.ObjectMeta)}
	if v, ok := s.Annotations[tolerateUnreadyAnnotation]; ok {
		out.Annotations = map[string]string{tolerateUnreadyAnnotation: v}
	}
	out.Spec = corev1.ServiceSpec{
		Type:                     s.Spec.Type,
		ClusterIP:                s.Spec.ClusterIP,
		ClusterIPs:               s.Spec.ClusterIPs,
		ExternalName:             s.Spec.ExternalName,
		PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses,
	}
	for _, p := range s.Spec.Ports {
		out.Spec.Ports = append(out.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port})
	}
	return out
}

// trimEndpointSlice keeps the service-name label, the ports and, per
// endpoint, the addresses, the ready condition and the hostname.
func trimEndpointSlice(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	out := &discoveryv1.EndpointSlice{ObjectMeta: trimMeta(s.ObjectMeta), AddressType: s.AddressType, Ports: s.Ports}
	if v, ok := s.Labels[discoveryv1.LabelServiceName]; ok {
		out.Labels = map[string]string{discoveryv1.LabelServiceName: v}
	}
	out.Endpoints = make([]discoveryv1.Endpoint, 0, len(s.Endpoints))
	for _, e := range s.Endpoints {
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{
			Addresses:  e.Addresses,
			Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready},
			Hostname:   e.Hostname,
		})
	}
	return out
}

// trimPod keeps the phase and the pod IPs.
func trimPod(p *corev1.Pod) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: trimMeta(p.ObjectMeta),
		Status:     corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs},
	}
}
