// Package replicationcontroller holds the write and read rules of core/v1
// ReplicationControllers: the ReplicaSet's rules (shared with
// registry/replicaset) over an equality-based selector, which defaults to
// the template's labels.
package replicationcontroller

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
	"github.com/svcplane/svcplane/internal/apiserver/registry/replicaset"
)

// Strategy returns the ReplicationController strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.ReplicationController]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc: func(ctx context.Context, rc, _ *corev1.ReplicationController) field.ErrorList {
			return Validate(ctx, rc)
		},
		ValidateStatusUpdateFunc: ValidateStatusUpdate,
		WarningsFunc:             Warnings,
		FieldSetFunc:             FieldSet,
	}
}

// Default applies upstream's core/v1 defaults: the selector and the
// controller's labels are the template's labels when empty, 1 replica,
// and the pod spec defaults on the template.
func Default(rc *corev1.ReplicationController) {
	if tpl := rc.Spec.Template; tpl != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = copyMap(tpl.Labels)
		}
		if len(rc.Labels) == 0 {
			rc.Labels = copyMap(tpl.Labels)
		}
		pod.DefaultPodSpec(&tpl.Spec)
	}
	if rc.Spec.Replicas == nil {
		one := int32(1)
		rc.Spec.Replicas = &one
	}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, rc *corev1.ReplicationController) {
	rc.Status = corev1.ReplicationControllerStatus{}
	rc.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, rc, old *corev1.ReplicationController) {
	rc.Status = old.Status
	if !equality.Semantic.DeepEqual(rc.Spec, old.Spec) {
		rc.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, rc, old *corev1.ReplicationController) {
	rc.Spec = old.Spec
}

// Validate checks a ReplicationController as upstream does: a non-empty
// selector, a template it matches, and the ReplicaSet's template rules.
func Validate(_ context.Context, rc *corev1.ReplicationController) field.ErrorList {
	p := field.NewPath("spec")
	var replicas int32
	if rc.Spec.Replicas != nil {
		replicas = *rc.Spec.Replicas
	}
	errs := apivalidation.ValidateNonnegativeField(int64(replicas), p.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(rc.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabels(rc.Spec.Selector, p.Child("selector"))...)
	}
	if rc.Spec.Template == nil {
		return append(errs, field.Required(p.Child("template"), ""))
	}
	return append(errs, replicaset.ValidateTemplate(rc.Spec.Template, labels.SelectorFromSet(rc.Spec.Selector),
		"ReplicationController", p.Child("template"))...)
}

// ValidateStatusUpdate checks the counters of a status write.
func ValidateStatusUpdate(_ context.Context, rc, _ *corev1.ReplicationController) field.ErrorList {
	s := rc.Status
	return replicaset.ValidateCounts(replicaset.Counts{Replicas: s.Replicas, FullyLabeledReplicas: s.FullyLabeledReplicas,
		ReadyReplicas: s.ReadyReplicas, AvailableReplicas: s.AvailableReplicas, ObservedGeneration: s.ObservedGeneration})
}

// Warnings warns on create when the name is not a DNS label.
func Warnings(_ context.Context, rc, old *corev1.ReplicationController) []string {
	if old != nil {
		return nil
	}
	return replicaset.NameWarnings(rc.Name)
}

// FieldSet adds status.replicas to the metadata fields, as upstream does.
func FieldSet(rc *corev1.ReplicationController) fields.Set {
	set := registry.MetaFieldSet(rc)
	set["status.replicas"] = strconv.Itoa(int(rc.Status.Replicas))
	return set
}
