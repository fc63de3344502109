// Package statefulset holds the write and read rules of apps/v1
// StatefulSets: upstream's apps/v1 defaults, validation with upstream's
// field error texts (only replicas, ordinals, template, updateStrategy,
// the claim retention policy and minReadySeconds may change), and the
// generation and status handling of its strategy.
package statefulset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// Strategy returns the StatefulSet strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*appsv1.StatefulSet]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
	}
}

// Default applies upstream's apps/v1 defaults: OrderedReady pods, a
// RollingUpdate strategy with partition 0 (so `kubectl rollout status`
// reports a partitioned roll out, as against kube-apiserver), 1 replica, 10 revisions kept,
// claims retained, and the pod and claim defaults of the templates.
func Default(ss *appsv1.StatefulSet) {
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition == nil &&
		spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		zero := int32(0)
		ru.Partition = &zero
	}
	if spec.Replicas == nil {
		one := int32(1)
		spec.Replicas = &one
	}
	if spec.RevisionHistoryLimit == nil {
		ten := int32(10)
		spec.RevisionHistoryLimit = &ten
	}
	defaultRetention(spec)
	for i := range spec.VolumeClaimTemplates {
		defaultClaim(&spec.VolumeClaimTemplates[i])
	}
	pod.DefaultPodSpec(&spec.Template.Spec)
}

func defaultRetention(spec *appsv1.StatefulSetSpec) {
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	p := spec.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
}

// defaultClaim applies the PersistentVolumeClaim defaults upstream's
// defaulters give a claim template: Filesystem mode, phase Pending.
func defaultClaim(c *corev1.PersistentVolumeClaim) {
	if c.Spec.VolumeMode == nil {
		fs := corev1.PersistentVolumeFilesystem
		c.Spec.VolumeMode = &fs
	}
	if c.Status.Phase == "" {
		c.Status.Phase = corev1.ClaimPending
	}
}

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, ss *appsv1.StatefulSet) {
	ss.Status = appsv1.StatefulSetStatus{}
	ss.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, ss, old *appsv1.StatefulSet) {
	ss.Status = old.Status
	if !equality.Semantic.DeepEqual(ss.Spec, old.Spec) {
		ss.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, ss, old *appsv1.StatefulSet) {
	ss.Spec = old.Spec
}
