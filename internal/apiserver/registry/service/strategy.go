package service

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// PrepareForCreate clears what a client may not set on create: the status.
func PrepareForCreate(svc *corev1.Service) {
	svc.Status = corev1.ServiceStatus{}
}

// PrepareForUpdate keeps the stored status (written only through the
// status subresource) and drops the fields a type change leaves unused.
func PrepareForUpdate(svc, old *corev1.Service) {
	svc.Status = *old.Status.DeepCopy()
	DropTypeDependentFields(svc, old)
}

// PrepareForStatusUpdate keeps the stored spec: a status write changes only
// the status (and metadata).
func PrepareForStatusUpdate(svc, old *corev1.Service) {
	svc.Spec = *old.Spec.DeepCopy()
}

// FieldSet returns the fields a field selector may name for Services.
func FieldSet(svc *corev1.Service) fields.Set {
	return fields.Set{
		"metadata.name":      svc.Name,
		"metadata.namespace": svc.Namespace,
		"spec.clusterIP":     svc.Spec.ClusterIP,
		"spec.type":          string(svc.Spec.Type),
	}
}

// Strategy returns the generic REST strategy of Services for a cluster
// with the given families. BeginCreate, BeginUpdate and allocation are not
// part of it: the REST layer calls them between Default and Prepare*.
func Strategy(cfg Config) registry.Strategy {
	return registry.Typed[*corev1.Service]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       func(_ context.Context, svc *corev1.Service) { PrepareForCreate(svc) },
		PrepareForUpdateFunc:       func(_ context.Context, svc, old *corev1.Service) { PrepareForUpdate(svc, old) },
		PrepareForStatusUpdateFunc: func(_ context.Context, svc, old *corev1.Service) { PrepareForStatusUpdate(svc, old) },
		ValidateFunc: func(_ context.Context, svc *corev1.Service) field.ErrorList {
			return Validate(svc, cfg)
		},
		ValidateUpdateFunc: func(_ context.Context, svc, old *corev1.Service) field.ErrorList {
			return ValidateUpdate(svc, old, cfg)
		},
		ValidateStatusUpdateFunc: func(_ context.Context, svc, old *corev1.Service) field.ErrorList {
			return ValidateStatusUpdate(svc, old)
		},
		WarningsFunc: func(_ context.Context, svc, old *corev1.Service) []string { return Warnings(svc, old) },
		FieldSetFunc: FieldSet,
	}
}
