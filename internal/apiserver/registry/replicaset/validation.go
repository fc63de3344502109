package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

const replicasMsg = "cannot be greater than status.replicas"

// Validate checks a new ReplicaSet. Object metadata is checked by the REST
// layer.
func Validate(_ context.Context, rs *appsv1.ReplicaSet) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := apivalidation.ValidateNonnegativeField(int64(replicas(rs.Spec.Replicas)), specPath.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(rs.Spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	return append(errs, ValidateSelectorAndTemplate(rs.Spec.Selector, &rs.Spec.Template, "ReplicaSet", specPath)...)
}

// ValidateUpdate checks an update; a ReplicaSet's spec may change freely.
func ValidateUpdate(ctx context.Context, rs, _ *appsv1.ReplicaSet) field.ErrorList {
	return Validate(ctx, rs)
}

// ValidateStatusUpdate checks the counters of a status write.
func ValidateStatusUpdate(_ context.Context, rs, _ *appsv1.ReplicaSet) field.ErrorList {
	s := rs.Status
	return ValidateCounts(Counts{s.Replicas, s.FullyLabeledReplicas, s.ReadyReplicas, s.AvailableReplicas, s.ObservedGeneration})
}

// Counts are the replica counters of a ReplicaSet's or a
// ReplicationController's status.
type Counts struct {
	Replicas, FullyLabeledReplicas, ReadyReplicas, AvailableReplicas int32
	ObservedGeneration                                               int64
}

// ValidateCounts checks status counters: none negative, none above
// status.replicas, available at most ready.
func ValidateCounts(s Counts) field.ErrorList {
	p := field.NewPath("status")
	errs := apivalidation.ValidateNonnegativeField(int64(s.Replicas), p.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.FullyLabeledReplicas), p.Child("fullyLabeledReplicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.ReadyReplicas), p.Child("readyReplicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.AvailableReplicas), p.Child("availableReplicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))...)
	if s.FullyLabeledReplicas > s.Replicas {
		errs = append(errs, field.Invalid(p.Child("fullyLabeledReplicas"), s.FullyLabeledReplicas, replicasMsg))
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

func replicas(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}

// ValidateSelectorAndTemplate checks a workload's selector (required, not
// empty) and its pod template, which the selector must match. kind names
// the workload in the activeDeadlineSeconds error; fldPath is its spec. The
// empty-selector text says "deployment" for ReplicaSets too, as upstream.
func ValidateSelectorAndTemplate(selector *metav1.LabelSelector, tpl *corev1.PodTemplateSpec, kind string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	selPath := fldPath.Child("selector")
	if selector == nil {
		errs = append(errs, field.Required(selPath, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, selPath)...)
		if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(selPath, selector, "empty selector is invalid for deployment"))
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return append(errs, field.Invalid(selPath, selector, "invalid label selector"))
	}
	return append(errs, ValidateTemplate(tpl, sel, kind, fldPath.Child("template"))...)
}

// ValidateTemplate checks a workload's pod template at p: sel must match
// its labels, its spec must be valid with restartPolicy Always and no
// activeDeadlineSeconds (kind names the workload in that error).
func ValidateTemplate(tpl *corev1.PodTemplateSpec, sel labels.Selector, kind string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !sel.Empty() && !sel.Matches(labels.Set(tpl.Labels)) {
		errs = append(errs, field.Invalid(p.Child("metadata", "labels"), tpl.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, pod.ValidatePodTemplateSpec(tpl, p)...)
	if tpl.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), tpl.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if tpl.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}
