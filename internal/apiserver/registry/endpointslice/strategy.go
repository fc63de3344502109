// Package endpointslice holds the write rules of discovery.k8s.io/v1
// EndpointSlices: port defaults, validation of addresses by address type
// with upstream's limits and texts, an immutable address type, and the
// generation bump on every change but metadata.
package endpointslice

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the EndpointSlice strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*discoveryv1.EndpointSlice]{
		DefaultFunc:          Default,
		PrepareForCreateFunc: PrepareForCreate,
		PrepareForUpdateFunc: PrepareForUpdate,
		ValidateFunc:         Validate,
		ValidateUpdateFunc:   ValidateUpdate,
	}
}

// Default gives every port an empty name and the TCP protocol when unset.
func Default(slice *discoveryv1.EndpointSlice) {
	for i := range slice.Ports {
		p := &slice.Ports[i]
		if p.Name == nil {
			name := ""
			p.Name = &name
		}
		if p.Protocol == nil {
			tcp := corev1.ProtocolTCP
			p.Protocol = &tcp
		}
	}
}

// PrepareForCreate starts at generation 1 and drops deprecatedTopology,
// which is not writable through v1.
func PrepareForCreate(_ context.Context, slice *discoveryv1.EndpointSlice) {
	slice.Generation = 1
	dropTopology(slice)
}

// PrepareForUpdate bumps the generation when anything but metadata, or the
// labels, changed, and drops deprecatedTopology when the endpoints changed.
func PrepareForUpdate(_ context.Context, slice, old *discoveryv1.EndpointSlice) {
	changed := slice.AddressType != old.AddressType ||
		!equality.Semantic.DeepEqual(slice.Endpoints, old.Endpoints) ||
		!equality.Semantic.DeepEqual(slice.Ports, old.Ports) ||
		!equality.Semantic.DeepEqual(slice.Labels, old.Labels)
	if changed {
		slice.Generation = old.Generation + 1
	}
	if !equality.Semantic.DeepEqual(slice.Endpoints, old.Endpoints) {
		dropTopology(slice)
	}
}

func dropTopology(slice *discoveryv1.EndpointSlice) {
	for i := range slice.Endpoints {
		slice.Endpoints[i].DeprecatedTopology = nil
	}
}
