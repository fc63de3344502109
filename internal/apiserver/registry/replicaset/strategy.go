// Package replicaset holds the write and read rules of apps/v1 ReplicaSets.
// It also exports the selector and pod template checks that Deployments
// share with ReplicaSets, as upstream's apps validation does.
package replicaset

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// Strategy returns the ReplicaSet strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*appsv1.ReplicaSet]{
		DefaultFunc:                Default,
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       PrepareForUpdate,
		PrepareForStatusUpdateFunc: PrepareForStatusUpdate,
		ValidateFunc:               Validate,
		ValidateUpdateFunc:         ValidateUpdate,
		ValidateStatusUpdateFunc:   ValidateStatusUpdate,
		WarningsFunc:               Warnings,
		FieldSetFunc:               FieldSet,
	}
}

// Default sets replicas to 1 and defaults the pod template's spec.
func Default(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		one := int32(1)
		rs.Spec.Replicas = &one
	}
	pod.DefaultPodSpec(&rs.Spec.Template.Spec)
}

// PrepareForCreate clears the status and starts at generation 1.
func PrepareForCreate(_ context.Context, rs *appsv1.ReplicaSet) {
	rs.Status = appsv1.ReplicaSetStatus{}
	rs.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes.
func PrepareForUpdate(_ context.Context, rs, old *appsv1.ReplicaSet) {
	rs.Status = old.Status
	BumpGeneration(rs, old)
}

// BumpGeneration sets metadata.generation to the old one plus one when the
// spec differs from the old spec.
func BumpGeneration(rs, old *appsv1.ReplicaSet) {
	if !equality.Semantic.DeepEqual(rs.Spec, old.Spec) {
		rs.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, rs, old *appsv1.ReplicaSet) {
	rs.Spec = old.Spec
}

// Warnings warns on create when the name is not a DNS label.
func Warnings(_ context.Context, rs, old *appsv1.ReplicaSet) []string {
	if old != nil {
		return nil
	}
	return NameWarnings(rs.Name)
}

// NameWarnings warns when a workload's name, which its pods' names and
// hostnames derive from, is not a DNS label.
func NameWarnings(name string) []string {
	if msgs := validation.IsDNS1123Label(name); len(msgs) != 0 {
		return []string{fmt.Sprintf("metadata.name: this is used in Pod names and hostnames, "+
			"which can result in surprising behavior; a DNS label is recommended: %v", msgs)}
	}
	return nil
}

// FieldSet adds status.replicas to the metadata fields, as upstream does.
func FieldSet(rs *appsv1.ReplicaSet) fields.Set {
	set := registry.MetaFieldSet(rs)
	set["status.replicas"] = strconv.Itoa(int(rs.Status.Replicas))
	return set
}
