// Package pod holds the write and read rules of core/v1 Pods: defaulting as
// upstream's v1 defaulters do, validation with upstream's field error texts,
// the fields a client may not set, and the fields a selector may name.
//
// DefaultPodSpec, ValidatePodSpec and ValidatePodTemplateSpec are shared with
// the workload resources (Deployment, ReplicaSet) that embed a pod template.
package pod

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/qos"
)

// Strategy returns the Pod strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.Pod]{
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

// PrepareForCreate starts a Pod at generation 1 in phase Pending with its
// QoS class computed, and marks it unschedulable while scheduling gates
// remain; any status the client sent is dropped.
func PrepareForCreate(_ context.Context, pod *corev1.Pod) {
	pod.Generation = 1
	pod.Status = corev1.PodStatus{
		Phase:    corev1.PodPending,
		QOSClass: qos.Compute(&pod.Spec),
	}
	if len(pod.Spec.SchedulingGates) > 0 {
		pod.Status.Conditions = []corev1.PodCondition{{
			Type:    corev1.PodScheduled,
			Status:  corev1.ConditionFalse,
			Reason:  corev1.PodReasonSchedulingGated,
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		}}
	}
}

// PrepareForUpdate keeps the stored status and bumps metadata.generation
// when the spec changes.
func PrepareForUpdate(_ context.Context, pod, old *corev1.Pod) {
	pod.Status = old.Status
	if !equality.Semantic.DeepEqual(pod.Spec, old.Spec) {
		pod.Generation = old.Generation + 1
	}
}

// PrepareForStatusUpdate keeps the stored spec and owner references (old
// kubelets corrupted them), backfills the immutable QoS class and keeps the
// observed generations a client left out.
func PrepareForStatusUpdate(_ context.Context, pod, old *corev1.Pod) {
	pod.Spec = old.Spec
	pod.OwnerReferences = old.OwnerReferences
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = old.Status.QOSClass
	}
	if pod.Status.ObservedGeneration == 0 {
		pod.Status.ObservedGeneration = old.Status.ObservedGeneration
	}
	keepConditionGenerations(pod.Status.Conditions, old.Status.Conditions)
}

// keepConditionGenerations copies observedGeneration from the old condition
// of the same type (in order, as types may repeat) where the new one has 0.
func keepConditionGenerations(conds, old []corev1.PodCondition) {
	byType := map[corev1.PodConditionType][]int64{}
	for _, c := range old {
		byType[c.Type] = append(byType[c.Type], c.ObservedGeneration)
	}
	for i := range conds {
		gens := byType[conds[i].Type]
		if len(gens) == 0 {
			continue
		}
		byType[conds[i].Type] = gens[1:]
		if conds[i].ObservedGeneration == 0 {
			conds[i].ObservedGeneration = gens[0]
		}
	}
}

// Warnings warns on create when the name is not a DNS label, since it
// becomes the Pod's hostname.
func Warnings(_ context.Context, pod, old *corev1.Pod) []string {
	if old != nil {
		return nil
	}
	if msgs := validation.IsDNS1123Label(pod.Name); len(msgs) != 0 {
		return []string{fmt.Sprintf("metadata.name: this is used in the Pod's hostname, "+
			"which can result in surprising behavior; a DNS label is recommended: %v", msgs)}
	}
	return nil
}

// FieldSet returns the fields a Pod field selector may name. status.podIPs
// is accepted but, as upstream, never carries a value.
func FieldSet(pod *corev1.Pod) fields.Set {
	set := registry.MetaFieldSet(pod)
	set["spec.nodeName"] = pod.Spec.NodeName
	set["spec.restartPolicy"] = string(pod.Spec.RestartPolicy)
	set["spec.schedulerName"] = pod.Spec.SchedulerName
	set["spec.serviceAccountName"] = pod.Spec.ServiceAccountName
	set["spec.hostNetwork"] = strconv.FormatBool(pod.Spec.HostNetwork)
	set["status.phase"] = string(pod.Status.Phase)
	set["status.podIP"] = primaryIP(&pod.Status)
	set["status.podIPs"] = ""
	set["status.nominatedNodeName"] = pod.Status.NominatedNodeName
	return set
}

// primaryIP is status.podIPs[0], or status.podIP for objects written by
// clients that only set the older field.
func primaryIP(status *corev1.PodStatus) string {
	if len(status.PodIPs) > 0 {
		return status.PodIPs[0].IP
	}
	return status.PodIP
}
