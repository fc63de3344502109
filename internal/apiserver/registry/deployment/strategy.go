// Package deployment holds the write and read rules of apps/v1
// Deployments: upstream's apps/v1 defaults, validation with upstream's
// field error texts, and the status and generation handling of its
// strategy. The scale subresource is the REST layer's.
package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
	"github.com/svcplane/svcplane/internal/apiserver/registry/replicaset"
)

// Strategy returns the Deployment strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*appsv1.Deployment]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
		WarningsFunc:               Warnings,
	}
}

// Default applies upstream's apps/v1 defaults: 1 replica, a RollingUpdate
// strategy with 25% surge and unavailability, 10 old ReplicaSets kept, a
// 600 s progress deadline, and the pod spec defaults on the template.
func Default(d *appsv1.Deployment) {
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = int32Ptr(1)
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := spec.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = percent("25%")
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = percent("25%")
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = int32Ptr(10)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = int32Ptr(600)
	}
	pod.DefaultPodSpec(&spec.Template.Spec)
}

func int32Ptr(v int32) *int32 { return &v }

func percent(s string) *intstr.IntOrString {
	v := intstr.FromString(s)
	return &v
}

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, d *appsv1.Deployment) {
	d.Status = appsv1.DeploymentStatus{}
	d.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation.
func PrepareForUpdate(_ context.Context, d, old *appsv1.Deployment) {
	d.Status = old.Status
	BumpGeneration(d, old)
}

// BumpGeneration sets metadata.generation to the old one plus one when the
// spec or the annotations (copied to ReplicaSets) changed, so scaling and
// template changes can be told apart from status writes.
func BumpGeneration(d, old *appsv1.Deployment) {
	if !equality.Semantic.DeepEqual(d.Spec, old.Spec) || !equality.Semantic.DeepEqual(d.Annotations, old.Annotations) {
		d.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec and labels.
func PrepareForStatusUpdate(_ context.Context, d, old *appsv1.Deployment) {
	d.Spec = old.Spec
	d.Labels = old.Labels
}

// Warnings warns on create when the name is not a DNS label.
func Warnings(_ context.Context, d, old *appsv1.Deployment) []string {
	if old != nil {
		return nil
	}
	return replicaset.NameWarnings(d.Name)
}
