package mirroring

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// ManagedBy is the endpointslice.kubernetes.io/managed-by value of
// mirrored slices.
const ManagedBy = "endpointslicemirroring-controller.k8s.io"

// newSlice returns an empty mirrored slice, to be created with a
// generated name: owned by the Endpoints, with its labels and annotations
// (but the trigger time and kubectl's last-applied configuration).
func newSlice(ep *corev1.Endpoints, t discoveryv1.AddressType, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	labels := make(map[string]string, len(ep.Labels)+2)
	for k, v := range ep.Labels {
		labels[k] = v
	}
	labels[discoveryv1.LabelServiceName] = ep.Name
	labels[discoveryv1.LabelManagedBy] = ManagedBy
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: ep.Name + "-",
			Namespace:    ep.Namespace,
			Labels:       labels,
			Annotations:  mirroredAnnotations(ep),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Endpoints", Name: ep.Name, UID: ep.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		AddressType: t,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{},
	}
}

// mirroredAnnotations are the Endpoints' annotations a mirrored slice
// carries.
func mirroredAnnotations(ep *corev1.Endpoints) map[string]string {
	out := make(map[string]string, len(ep.Annotations))
	for k, v := range ep.Annotations {
		if k != corev1.EndpointsLastChangeTriggerTime && k != corev1.LastAppliedConfigAnnotation {
			out[k] = v
		}
	}
	return out
}
