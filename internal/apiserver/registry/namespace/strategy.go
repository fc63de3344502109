// Package namespace holds the write and read rules of core/v1 Namespaces:
// the metadata.name label and Active phase defaults, the "kubernetes"
// finalizer added on create, spec.finalizers and status kept out of reach
// of ordinary updates, and status.phase for field selectors.
package namespace

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the Namespace strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.Namespace]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
		FieldSetFunc:               FieldSet,
	}
}

// Default labels a named namespace with kubernetes.io/metadata.name and
// gives it phase Active when no phase is set.
func Default(ns *corev1.Namespace) {
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// PrepareForCreate starts the namespace Active and makes sure the
// "kubernetes" finalizer is present.
func PrepareForCreate(_ context.Context, ns *corev1.Namespace) {
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
}

// PrepareForUpdate keeps the stored finalizers and status: they change
// only through the finalize and status subresources.
func PrepareForUpdate(_ context.Context, ns, old *corev1.Namespace) {
	ns.Spec.Finalizers = old.Spec.Finalizers
	ns.Status = old.Status
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, ns, old *corev1.Namespace) {
	ns.Spec = old.Spec
}

// Validate checks the name (a DNS label, which the REST layer's generic
// check does not require) and the spec finalizers.
func Validate(_ context.Context, ns *corev1.Namespace) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apivalidation.ValidateNamespaceName(ns.Name, false) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), ns.Name, msg))
	}
	// Upstream reports every finalizer on the unindexed list path.
	for _, f := range ns.Spec.Finalizers {
		errs = append(errs, ValidateFinalizerName(string(f), field.NewPath("spec", "finalizers"))...)
	}
	return errs
}

// ValidateFinalizerName accepts a qualified name that is either fully
// qualified (has a "/") or one of upstream's standard finalizer names.
func ValidateFinalizerName(name string, p *field.Path) field.ErrorList {
	errs := apivalidation.ValidateFinalizerName(name, p)
	standard := name == string(corev1.FinalizerKubernetes) ||
		name == metav1.FinalizerOrphanDependents || name == metav1.FinalizerDeleteDependents
	if !strings.Contains(name, "/") && !standard {
		errs = append(errs, field.Invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
	}
	return errs
}

// ValidateUpdate checks the new object as on create.
func ValidateUpdate(ctx context.Context, ns, _ *corev1.Namespace) field.ErrorList {
	return Validate(ctx, ns)
}

// ValidateStatusUpdate ties the phase to the deletion timestamp.
func ValidateStatusUpdate(_ context.Context, ns, _ *corev1.Namespace) field.ErrorList {
	p := field.NewPath("status", "Phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
		return nil
	}
	if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}

// FieldSet returns metadata.name and status.phase.
func FieldSet(ns *corev1.Namespace) fields.Set {
	set := registry.MetaFieldSet(ns)
	set["status.phase"] = string(ns.Status.Phase)
	return set
}
