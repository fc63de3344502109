package daemonset

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// Validate checks a new DaemonSet as upstream's ValidateDaemonSetSpec.
func Validate(_ context.Context, ds *appsv1.DaemonSet) field.ErrorList {
	p, spec := field.NewPath("spec"), &ds.Spec
	var errs field.ErrorList
	if spec.Selector == nil {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	sel, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(p.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}
	errs = append(errs, pod.ValidatePodTemplateSpec(&spec.Template, p.Child("template"))...)
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in DaemonSet is not Supported"))
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateUpdateStrategy(&spec.UpdateStrategy, p.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	return errs
}

// ValidateUpdate checks an update: the new object must be valid, the
// selector may not change (apps/v1).
func ValidateUpdate(ctx context.Context, ds, old *appsv1.DaemonSet) field.ErrorList {
	errs := Validate(ctx, ds)
	return append(errs, apivalidation.ValidateImmutableField(ds.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
}

func validateUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "")}
		}
		return validateRollingUpdate(s.RollingUpdate, p.Child("rollingUpdate"))
	}
	return field.ErrorList{field.NotSupported(p, s, []string{
		string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)})}
}

// validateRollingUpdate requires exactly one of maxUnavailable and
// maxSurge to be non-zero, each an int or a percentage up to 100%.
func validateRollingUpdate(ru *appsv1.RollingUpdateDaemonSet, p *field.Path) field.ErrorList {
	unavailable, surge := orZero(ru.MaxUnavailable), orZero(ru.MaxSurge)
	errs := ValidateIntOrPercent(unavailable, p.Child("maxUnavailable"))
	errs = append(errs, ValidateIntOrPercent(surge, p.Child("maxSurge"))...)
	errs = append(errs, NotMoreThan100Percent(unavailable, p.Child("maxUnavailable"))...)
	errs = append(errs, NotMoreThan100Percent(surge, p.Child("maxSurge"))...)
	hasUnavailable, hasSurge := IntOrPercentValue(unavailable) != 0, IntOrPercentValue(surge) != 0
	switch {
	case hasUnavailable && hasSurge:
		errs = append(errs, field.Invalid(p.Child("maxSurge"), ru.MaxSurge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		errs = append(errs, field.Required(p.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

func orZero(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

// ValidateIntOrPercent accepts a non-negative int or an "N%" string.
func ValidateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	if v.Type == intstr.String {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(p, v, msg))
		}
		return errs
	}
	return apivalidation.ValidateNonnegativeField(int64(v.IntValue()), p)
}

// NotMoreThan100Percent refuses a percentage above 100%.
func NotMoreThan100Percent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	if n, ok := percentValue(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(p, v, "must not be greater than 100%")}
	}
	return nil
}

func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

// IntOrPercentValue is the number of an int or of a valid percentage.
func IntOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// ValidateStatusUpdate checks the counters of a status write; the
// collision count may not go down.
func ValidateStatusUpdate(_ context.Context, ds, old *appsv1.DaemonSet) field.ErrorList {
	p, s := field.NewPath("status"), &ds.Status
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		n    int64
	}{{"currentNumberScheduled", int64(s.CurrentNumberScheduled)}, {"numberMisscheduled", int64(s.NumberMisscheduled)},
		{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)}, {"numberReady", int64(s.NumberReady)},
		{"observedGeneration", s.ObservedGeneration}, {"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)},
		{"numberAvailable", int64(s.NumberAvailable)}, {"numberUnavailable", int64(s.NumberUnavailable)}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(c.n, p.Child(c.name))...)
	}
	if s.CollisionCount != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.CollisionCount), p.Child("collisionCount"))...)
	}
	if IsDecremented(s.CollisionCount, old.Status.CollisionCount) {
		errs = append(errs, field.Invalid(p.Child("collisionCount"), deref(s.CollisionCount), "cannot be decremented"))
	}
	return errs
}

// IsDecremented is true when a set count went down or was unset.
func IsDecremented(update, old *int32) bool {
	if update == nil && old != nil {
		return true
	}
	return update != nil && old != nil && *update < *old
}

func deref(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}
