package deployment

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/replicaset"
)

const replicasMsg = "cannot be greater than status.replicas"

// Validate checks a new Deployment. Object metadata is checked by the REST
// layer.
func Validate(_ context.Context, d *appsv1.Deployment) field.ErrorList {
	p, spec := field.NewPath("spec"), &d.Spec
	errs := apivalidation.ValidateNonnegativeField(int64(deref(spec.Replicas)), p.Child("replicas"))
	errs = append(errs, replicaset.ValidateSelectorAndTemplate(spec.Selector, &spec.Template, "Deployment", p)...)
	errs = append(errs, validateStrategy(&spec.Strategy, p.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if pds := spec.ProgressDeadlineSeconds; pds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*pds), p.Child("progressDeadlineSeconds"))...)
		if *pds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(p.Child("progressDeadlineSeconds"), pds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// ValidateUpdate checks an update: the new object must be valid and the
// selector may not change.
func ValidateUpdate(ctx context.Context, d, old *appsv1.Deployment) field.ErrorList {
	errs := Validate(ctx, d)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
}

func deref(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}

func validateStrategy(s *appsv1.DeploymentStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
		return nil
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(s.RollingUpdate, p.Child("rollingUpdate"))
	}
	return field.ErrorList{field.NotSupported(p, s, []string{
		string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)})}
}

// validateRollingUpdate requires non-negative ints or percentages, not
// both zero, and maxUnavailable at most 100%.
func validateRollingUpdate(ru *appsv1.RollingUpdateDeployment, p *field.Path) field.ErrorList {
	unavailable, surge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
	errs := validateIntOrPercent(unavailable, p.Child("maxUnavailable"))
	errs = append(errs, validateIntOrPercent(surge, p.Child("maxSurge"))...)
	if intOrPercentValue(unavailable) == 0 && intOrPercentValue(surge) == 0 {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), unavailable, "may not be 0 when `maxSurge` is 0"))
	}
	if v, ok := percentValue(unavailable); ok && v > 100 {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), unavailable, "must not be greater than 100%"))
	}
	return errs
}

func intOrZero(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

func validateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	if v.Type == intstr.String {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(p, v, msg))
		}
		return errs
	}
	return apivalidation.ValidateNonnegativeField(int64(v.IntValue()), p)
}

// percentValue returns the number of a valid "N%" string.
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// ValidateStatusUpdate checks the counters of a status write; the
// collision count may not go down.
func ValidateStatusUpdate(_ context.Context, d, old *appsv1.Deployment) field.ErrorList {
	p, s := field.NewPath("status"), &d.Status
	errs := apivalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))
	for _, c := range []struct {
		name string
		n    int32
	}{{"replicas", s.Replicas}, {"updatedReplicas", s.UpdatedReplicas}, {"readyReplicas", s.ReadyReplicas},
		{"availableReplicas", s.AvailableReplicas}, {"unavailableReplicas", s.UnavailableReplicas}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.n), p.Child(c.name))...)
	}
	if s.CollisionCount != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.CollisionCount), p.Child("collisionCount"))...)
	}
	errs = append(errs, validateReplicaCounts(s, p)...)
	if isDecremented(s.CollisionCount, old.Status.CollisionCount) {
		errs = append(errs, field.Invalid(p.Child("collisionCount"), deref(s.CollisionCount), "cannot be decremented"))
	}
	return errs
}

func validateReplicaCounts(s *appsv1.DeploymentStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.UpdatedReplicas > s.Replicas {
		errs = append(errs, field.Invalid(p.Child("updatedReplicas"), s.UpdatedReplicas, replicasMsg))
	}
	if s.ReadyReplicas > s.Replicas {
		errs = append(errs, field.Invalid(p.Child("readyReplicas"), s.ReadyReplicas, replicasMsg))
	}
	if s.AvailableReplicas > s.Replicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), s.AvailableReplicas, replicasMsg))
	}
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}

// isDecremented is true when a set count went down or was unset.
func isDecremented(update, old *int32) bool {
	if update == nil && old != nil {
		return true
	}
	return update != nil && old != nil && *update < *old
}
