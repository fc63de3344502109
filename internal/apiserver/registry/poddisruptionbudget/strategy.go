// Package poddisruptionbudget holds the write and read rules of policy/v1
// PodDisruptionBudgets: upstream's validation with its field error texts,
// a status the client may not set on create, and a generation that rises
// when the spec changes (the disruption controller answers it with
// status.observedGeneration; the eviction subresource waits for that).
package poddisruptionbudget

import (
	"context"

	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/daemonset"
)

// Strategy returns the PodDisruptionBudget strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*policyv1.PodDisruptionBudget]{
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
	}
}

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, pdb *policyv1.PodDisruptionBudget) {
	pdb.Status = policyv1.PodDisruptionBudgetStatus{}
	pdb.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, pdb, old *policyv1.PodDisruptionBudget) {
	pdb.Status = old.Status
	if !equality.Semantic.DeepEqual(pdb.Spec, old.Spec) {
		pdb.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, pdb, old *policyv1.PodDisruptionBudget) {
	pdb.Spec = old.Spec
}

// Validate checks the spec as upstream's ValidatePodDisruptionBudget:
// minAvailable and maxUnavailable are exclusive, each a non-negative int
// or a percentage up to 100%, the selector valid and the unhealthy pod
// eviction policy one of the two known.
func Validate(_ context.Context, pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	p := field.NewPath("spec")
	spec := pdb.Spec
	var errs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if v := spec.MinAvailable; v != nil {
		errs = append(errs, daemonset.ValidateIntOrPercent(*v, p.Child("minAvailable"))...)
		errs = append(errs, daemonset.NotMoreThan100Percent(*v, p.Child("minAvailable"))...)
	}
	if v := spec.MaxUnavailable; v != nil {
		errs = append(errs, daemonset.ValidateIntOrPercent(*v, p.Child("maxUnavailable"))...)
		errs = append(errs, daemonset.NotMoreThan100Percent(*v, p.Child("maxUnavailable"))...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	if u := spec.UnhealthyPodEvictionPolicy; u != nil && *u != policyv1.IfHealthyBudget && *u != policyv1.AlwaysAllow {
		errs = append(errs, field.NotSupported(p.Child("unhealthyPodEvictionPolicy"), *u,
			[]string{string(policyv1.AlwaysAllow), string(policyv1.IfHealthyBudget)}))
	}
	return errs
}

// ValidateUpdate checks an update; the spec may change freely.
func ValidateUpdate(ctx context.Context, pdb, _ *policyv1.PodDisruptionBudget) field.ErrorList {
	return Validate(ctx, pdb)
}

// ValidateStatusUpdate checks the conditions and that no counter is
// negative, as upstream's ValidatePodDisruptionBudgetStatusUpdate.
func ValidateStatusUpdate(_ context.Context, pdb, _ *policyv1.PodDisruptionBudget) field.ErrorList {
	p, s := field.NewPath("status"), pdb.Status
	errs := metav1validation.ValidateConditions(s.Conditions, p.Child("conditions"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.DisruptionsAllowed), p.Child("disruptionsAllowed"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.CurrentHealthy), p.Child("currentHealthy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.DesiredHealthy), p.Child("desiredHealthy"))...)
	return append(errs, apivalidation.ValidateNonnegativeField(int64(s.ExpectedPods), p.Child("expectedPods"))...)
}
