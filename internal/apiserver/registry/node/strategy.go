// Package node holds the write and read rules of core/v1 Nodes, which are
// cluster-scoped: a node may be created with its status (the agent
// registers that way), ordinary updates keep the stored status, status
// updates keep the stored spec, and pod CIDRs are set once.
package node

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the Node strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.Node]{
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

// Default copies capacity to allocatable when allocatable is unset and
// keeps spec.podCIDR and spec.podCIDRs consistent the way a round trip
// through upstream's internal type does: podCIDR, when set, is
// authoritative for podCIDRs[0].
func Default(node *corev1.Node) {
	if node.Status.Allocatable == nil && node.Status.Capacity != nil {
		node.Status.Allocatable = node.Status.Capacity.DeepCopy()
	}
	spec := &node.Spec
	switch {
	case spec.PodCIDR != "" && (len(spec.PodCIDRs) == 0 || spec.PodCIDRs[0] != spec.PodCIDR):
		spec.PodCIDRs = []string{spec.PodCIDR}
	case spec.PodCIDR == "" && len(spec.PodCIDRs) > 0:
		spec.PodCIDR = spec.PodCIDRs[0]
	}
}

// PrepareForCreate keeps everything, status included, but the deprecated
// dynamic kubelet configuration fields.
func PrepareForCreate(_ context.Context, node *corev1.Node) {
	node.Spec.ConfigSource = nil
	node.Status.Config = nil
}

// PrepareForUpdate keeps the stored status and drops a configSource the
// node did not already have.
func PrepareForUpdate(_ context.Context, node, old *corev1.Node) {
	node.Status = old.Status
	if old.Spec.ConfigSource == nil {
		node.Spec.ConfigSource = nil
	}
}

// PrepareForStatusUpdate keeps the stored spec.
func PrepareForStatusUpdate(_ context.Context, node, old *corev1.Node) {
	node.Spec = old.Spec
}

// FieldSet returns metadata.name and spec.unschedulable ("true"/"false").
func FieldSet(node *corev1.Node) fields.Set {
	set := registry.MetaFieldSet(node)
	set["spec.unschedulable"] = strconv.FormatBool(node.Spec.Unschedulable)
	return set
}
