// Package lease holds the write rules of coordination.k8s.io/v1 Leases,
// which node heartbeats and leader election renew: a positive duration, a
// non-negative transition count, and a known coordination strategy.
package lease

import (
	"context"
	"slices"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

var strategies = []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}

// Strategy returns the Lease strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*coordinationv1.Lease]{
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
	}
}

// Validate checks the spec of a new Lease.
func Validate(_ context.Context, l *coordinationv1.Lease) field.ErrorList {
	return ValidateSpec(&l.Spec, field.NewPath("spec"))
}

// ValidateUpdate checks the new spec as on create.
func ValidateUpdate(ctx context.Context, l, _ *coordinationv1.Lease) field.ErrorList {
	return Validate(ctx, l)
}

// ValidateSpec checks a lease spec; holderIdentity and the times are free.
func ValidateSpec(spec *coordinationv1.LeaseSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(p.Child("leaseDurationSeconds"), d, "must be greater than 0"))
	}
	if n := spec.LeaseTransitions; n != nil && *n < 0 {
		errs = append(errs, field.Invalid(p.Child("leaseTransitions"), n, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		errs = append(errs, validateStrategy(*spec.Strategy, p.Child("strategy"))...)
	}
	if h := spec.PreferredHolder; h != nil && *h != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		errs = append(errs, field.Forbidden(p.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

// validateStrategy accepts the Kubernetes-defined strategies and
// domain-qualified custom ones. As upstream, errors name
// "<path>.strategy", i.e. "spec.strategy.strategy".
func validateStrategy(s coordinationv1.CoordinatedLeaseStrategy, p *field.Path) field.ErrorList {
	if !strings.Contains(string(s), "/") {
		if slices.Contains(strategies, s) {
			return nil
		}
		return field.ErrorList{field.NotSupported(p.Child("strategy"), s, strategies)}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(s)) {
		errs = append(errs, field.Invalid(p.Child("strategy"), s, msg))
	}
	return errs
}
