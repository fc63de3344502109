// Package controllerrevision holds the write rules of apps/v1
// ControllerRevisions, the immutable snapshots of a DaemonSet's or
// StatefulSet's template that rollout history and undo read.
package controllerrevision

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the ControllerRevision strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*appsv1.ControllerRevision]{
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
	}
}

// Validate requires data and a non-negative revision.
func Validate(_ context.Context, r *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if r.Data.Raw == nil && r.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, apivalidation.ValidateNonnegativeField(r.Revision, field.NewPath("revision"))...)
}

// ValidateUpdate also keeps data unchanged.
func ValidateUpdate(ctx context.Context, r, old *appsv1.ControllerRevision) field.ErrorList {
	errs := Validate(ctx, r)
	return append(errs, apivalidation.ValidateImmutableField(r.Data, old.Data, field.NewPath("data"))...)
}
