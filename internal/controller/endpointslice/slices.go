package endpointslice

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// ManagedBy is the endpointslice.kubernetes.io/managed-by value of the
// slices this controller owns.
const ManagedBy = "endpointslice-controller.k8s.io"

// newSlice returns an empty slice for a Service, to be created with a
// generated name.
func newSlice(svc *corev1.Service, t discoveryv1.AddressType, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    svc.Name + "-",
			Namespace:       svc.Namespace,
			OwnerReferences: []metav1.OwnerReference{ownerRef(svc)},
		},
		AddressType: t,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	s.Labels, _ = sliceLabels(s, svc)
	return s
}

func ownerRef(svc *corev1.Service) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// ownedBy reports whether the Service owns the slice.
func ownedBy(s *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	for _, o := range s.OwnerReferences {
		if o.UID == svc.UID && o.Kind == "Service" && o.APIVersion == "v1" {
			return true
		}
	}
	return false
}

// sliceLabels returns the labels a slice should carry: the Service's own
// (reserved keys left out), the headless label for a Service without a
// cluster IP, the service-name and managed-by labels. changed reports
// whether the slice's non-reserved labels differ from the Service's.
func sliceLabels(s *discoveryv1.EndpointSlice, svc *corev1.Service) (labels map[string]string, changed bool) {
	labels = withoutReserved(svc.Labels)
	changed = !maps.Equal(withoutReserved(s.Labels), labels)
	if !endpointutil.IsServiceIPSet(svc) {
		labels[corev1.IsHeadlessService] = ""
	}
	labels[discoveryv1.LabelServiceName] = svc.Name
	labels[discoveryv1.LabelManagedBy] = ManagedBy
	return labels, changed
}

func withoutReserved(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+3)
	for k, v := range in {
		if k != discoveryv1.LabelServiceName && k != discoveryv1.LabelManagedBy && k != corev1.IsHeadlessService {
			out[k] = v
		}
	}
	return out
}

// samePlaceholder reports whether an existing slice is already the
// placeholder p would be: same namespace, labels and address type, no
// ports and no endpoints.
func samePlaceholder(s, p *discoveryv1.EndpointSlice) bool {
	return s.Namespace == p.Namespace && maps.Equal(s.Labels, p.Labels) && s.AddressType == p.AddressType &&
		len(s.Ports) == 0 && len(s.Endpoints) == 0
}

// recycle turns creates into updates of owned slices that would be
// deleted, so that a slice is rewritten rather than replaced.
func recycle(svc *corev1.Service, p *Plan) {
	kept := p.Delete[:0]
	for _, del := range p.Delete {
		if len(p.Create) == 0 || !ownedBy(del, svc) || p.Create[len(p.Create)-1].AddressType != del.AddressType {
			kept = append(kept, del)
			continue
		}
		s := p.Create[len(p.Create)-1]
		p.Create = p.Create[:len(p.Create)-1]
		s.Name, s.GenerateName = del.Name, ""
		s.ResourceVersion, s.UID = del.ResourceVersion, del.UID
		p.Update = append(p.Update, s)
	}
	p.Delete = kept
}
