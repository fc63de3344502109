package statefulset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/daemonset"
)

const replicasMsg = "cannot be greater than status.replicas"

// Validate checks a new StatefulSet as upstream's ValidateStatefulSetSpec.
func Validate(_ context.Context, ss *appsv1.StatefulSet) field.ErrorList {
	p, spec := field.NewPath("spec"), &ss.Spec
	errs := validatePolicies(spec, p)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(deref(spec.Replicas)), p.Child("replicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.Ordinals.Start), p.Child("ordinals.start"))...)
	}
	errs = append(errs, validateSelector(spec, p)...)
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"))
	}
	return errs
}

func validatePolicies(spec *appsv1.StatefulSetSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(p.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(p.Child("podManagementPolicy"), spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}
	errs = append(errs, validateUpdateStrategy(&spec.UpdateStrategy, p.Child("updateStrategy"))...)
	if rp := spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		rpPath := p.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, validateRetention(rp.WhenDeleted, rpPath.Child("whenDeleted"))...)
		errs = append(errs, validateRetention(rp.WhenScaled, rpPath.Child("whenScaled"))...)
	}
	return errs
}

func validateUpdateStrategy(s *appsv1.StatefulSetUpdateStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(p, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(p.Child("rollingUpdate"), s.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType))}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return validateRollingUpdate(s.RollingUpdate, p.Child("rollingUpdate"))
		}
	default:
		return field.ErrorList{field.Invalid(p, s, fmt.Sprintf("must be '%s' or '%s'",
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType))}
	}
	return nil
}

func validateRollingUpdate(ru *appsv1.RollingUpdateStatefulSetStrategy, p *field.Path) field.ErrorList {
	errs := apivalidation.ValidateNonnegativeField(int64(deref(ru.Partition)), p.Child("partition"))
	if ru.MaxUnavailable != nil {
		mp := p.Child("maxUnavailable")
		errs = append(errs, daemonset.ValidateIntOrPercent(*ru.MaxUnavailable, mp)...)
		if daemonset.IntOrPercentValue(*ru.MaxUnavailable) == 0 {
			errs = append(errs, field.Invalid(mp, *ru.MaxUnavailable, "cannot be 0"))
		}
		errs = append(errs, daemonset.NotMoreThan100Percent(*ru.MaxUnavailable, mp)...)
	}
	return errs
}

func validateRetention(t appsv1.PersistentVolumeClaimRetentionPolicyType, p *field.Path) field.ErrorList {
	switch t {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, t, []string{string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType),
		string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)})}
}

// validateSelector checks the selector and that it matches the
// template's labels; like upstream, the template's pod spec itself is not
// validated, only its labels and annotations.
func validateSelector(spec *appsv1.StatefulSetSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	selPath := p.Child("selector")
	if spec.Selector == nil {
		errs = append(errs, field.Required(selPath, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, selPath)...)
		if len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(selPath, spec.Selector, "empty selector is invalid for statefulset"))
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err != nil {
		return append(errs, field.Invalid(selPath, spec.Selector, ""))
	}
	tp := p.Child("template")
	if !sel.Empty() && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.Template.Labels, tp.Child("labels"))...)
	return append(errs, apivalidation.ValidateAnnotations(spec.Template.Annotations, tp.Child("annotations"))...)
}

// ValidateUpdate checks an update: the new spec must be valid and only
// some of its fields may change.
func ValidateUpdate(ctx context.Context, ss, old *appsv1.StatefulSet) field.ErrorList {
	errs := Validate(ctx, ss)
	c := ss.Spec.DeepCopy()
	c.Replicas, c.Template, c.UpdateStrategy = old.Spec.Replicas, old.Spec.Template, old.Spec.UpdateStrategy
	c.MinReadySeconds, c.Ordinals = old.Spec.MinReadySeconds, old.Spec.Ordinals
	c.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	if !equality.Semantic.DeepEqual(*c, old.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', "+
			"'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

// ValidateStatusUpdate checks the counters of a status write.
func ValidateStatusUpdate(_ context.Context, ss, old *appsv1.StatefulSet) field.ErrorList {
	p, s := field.NewPath("status"), &ss.Status
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		n    int32
	}{{"replicas", s.Replicas}, {"readyReplicas", s.ReadyReplicas}, {"currentReplicas", s.CurrentReplicas},
		{"updatedReplicas", s.UpdatedReplicas}, {"availableReplicas", s.AvailableReplicas}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.n), p.Child(c.name))...)
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))...)
	if s.CollisionCount != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.CollisionCount), p.Child("collisionCount"))...)
	}
	for _, c := range []struct {
		name string
		n    int32
	}{{"readyReplicas", s.ReadyReplicas}, {"currentReplicas", s.CurrentReplicas}, {"updatedReplicas", s.UpdatedReplicas},
		{"availableReplicas", s.AvailableReplicas}} {
		if c.n > s.Replicas {
			errs = append(errs, field.Invalid(p.Child(c.name), c.n, replicasMsg))
		}
	}
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than status.readyReplicas"))
	}
	if daemonset.IsDecremented(s.CollisionCount, old.Status.CollisionCount) {
		errs = append(errs, field.Invalid(p.Child("collisionCount"), deref(s.CollisionCount), "cannot be decremented"))
	}
	return errs
}

func deref(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}
