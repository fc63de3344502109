// Package daemonset holds the write and read rules of apps/v1
// DaemonSets: upstream's apps/v1 defaults, validation with upstream's
// field error texts, and the generation handling of its strategy (the
// generation and spec.templateGeneration rise when the template changes).
package daemonset

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
	"github.com/svcplane/svcplane/internal/apiserver/registry/replicaset"
)

// Strategy returns the DaemonSet strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*appsv1.DaemonSet]{
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

// Default applies upstream's apps/v1 defaults: a RollingUpdate strategy
// with maxUnavailable 1 and maxSurge 0, 10 revisions kept, and the pod
// spec defaults on the template.
func Default(ds *appsv1.DaemonSet) {
	s := &ds.Spec.UpdateStrategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			one := intstr.FromInt32(1)
			s.RollingUpdate.MaxUnavailable = &one
		}
		if s.RollingUpdate.MaxSurge == nil {
			zero := intstr.FromInt32(0)
			s.RollingUpdate.MaxSurge = &zero
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ten := int32(10)
		ds.Spec.RevisionHistoryLimit = &ten
	}
	pod.DefaultPodSpec(&ds.Spec.Template.Spec)
}

// TemplateGenerationAnnotation holds the template generation apps/v1
// keeps of extensions/v1beta1's spec.templateGeneration; the controller
// copies it to the pods' pod-template-generation label.
const TemplateGenerationAnnotation = "deprecated.daemonset.template.generation"

// PrepareForCreate clears the status and starts at generation 1 and
// template generation 1.
func PrepareForCreate(_ context.Context, ds *appsv1.DaemonSet) {
	ds.Status = appsv1.DaemonSetStatus{}
	ds.Generation = 1
	setTemplateGeneration(ds, 1)
}

// PrepareForUpdate keeps the stored status; a template change raises the
// template generation, and any spec change the generation.
func PrepareForUpdate(_ context.Context, ds, old *appsv1.DaemonSet) {
	ds.Status = old.Status
	gen := TemplateGeneration(old)
	if !equality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
		gen++
	}
	setTemplateGeneration(ds, gen)
	if !equality.Semantic.DeepEqual(ds.Spec, old.Spec) {
		ds.Generation = old.Generation + 1
	}
}

// TemplateGeneration reads the template generation annotation (0 when
// missing or not a number).
func TemplateGeneration(ds *appsv1.DaemonSet) int64 {
	n, _ := strconv.ParseInt(ds.Annotations[TemplateGenerationAnnotation], 10, 64)
	return n
}

func setTemplateGeneration(ds *appsv1.DaemonSet, gen int64) {
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[TemplateGenerationAnnotation] = strconv.FormatInt(gen, 10)
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, ds, old *appsv1.DaemonSet) {
	ds.Spec = old.Spec
}

// Warnings warns on create when the name is not a DNS label.
func Warnings(_ context.Context, ds, old *appsv1.DaemonSet) []string {
	if old != nil {
		return nil
	}
	return replicaset.NameWarnings(ds.Name)
}
