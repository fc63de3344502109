// Package ingress holds the write rules of networking.k8s.io/v1 Ingresses
// and IngressClasses: upstream's defaults, validation with its texts and
// field paths, and the status subresource of Ingresses. svcplane runs no
// ingress controller; the API is served for those that do.
package ingress

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the Ingress strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*networkingv1.Ingress]{
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
	}
}

// ClassStrategy returns the IngressClass strategy the REST layer uses.
func ClassStrategy() registry.Strategy {
	return registry.Typed[*networkingv1.IngressClass]{
		DefaultFunc:        DefaultClass,
		ValidateFunc:       ValidateClass,
		ValidateUpdateFunc: ValidateClassUpdate,
	}
}

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, ing *networkingv1.Ingress) {
	ing.Status = networkingv1.IngressStatus{}
	ing.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, ing, old *networkingv1.Ingress) {
	ing.Status = old.Status
	if !equality.Semantic.DeepEqual(ing.Spec, old.Spec) {
		ing.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, ing, old *networkingv1.Ingress) {
	ing.Spec = old.Spec
}

// ValidateName checks an Ingress's or IngressClass's name: a DNS
// subdomain.
var ValidateName = apivalidation.NameIsDNSSubdomain

// Validate checks a new Ingress as upstream's ValidateIngressCreate.
func Validate(_ context.Context, ing *networkingv1.Ingress) field.ErrorList {
	return validateSpec(&ing.Spec, field.NewPath("spec"), options{})
}

// ValidateUpdate checks a changed Ingress. As upstream, wildcard hosts and
// TLS secret names that an older release let in stay allowed when the
// stored object already had them.
func ValidateUpdate(_ context.Context, ing, old *networkingv1.Ingress) field.ErrorList {
	opts := options{
		allowInvalidSecretName:       !secretNamesValid(&old.Spec),
		allowInvalidWildcardHostRule: !wildcardHostsValid(&old.Spec),
	}
	return validateSpec(&ing.Spec, field.NewPath("spec"), opts)
}

// ValidateStatusUpdate checks the load balancer addresses.
func ValidateStatusUpdate(_ context.Context, ing, _ *networkingv1.Ingress) field.ErrorList {
	return validateLoadBalancerStatus(&ing.Status.LoadBalancer, field.NewPath("status", "loadBalancer"))
}

// DefaultClass sets the parameters' scope to Cluster, as networking/v1's
// defaults.
func DefaultClass(ic *networkingv1.IngressClass) {
	if p := ic.Spec.Parameters; p != nil && p.Scope == nil {
		scope := networkingv1.IngressClassParametersReferenceScopeCluster
		p.Scope = &scope
	}
}
