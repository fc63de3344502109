package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// CalculateStatus is the status of rs over its active pods: replicas,
// fully labeled, ready and available counts, the observed generation and a
// ReplicaFailure condition while creating or deleting pods fails.
func CalculateStatus(rs *appsv1.ReplicaSet, active []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	status := *rs.Status.DeepCopy()
	template := labels.SelectorFromSet(rs.Spec.Template.Labels)
	var labeled, ready, available int32
	for _, p := range active {
		if template.Matches(labels.Set(p.Labels)) {
			labeled++
		}
		if IsPodReady(p) {
			ready++
			if IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	status.Replicas = int32(len(active))
	status.FullyLabeledReplicas, status.ReadyReplicas, status.AvailableReplicas = labeled, ready, available
	status.ObservedGeneration = rs.Generation
	status.Conditions = failureConditions(status.Conditions, len(active)-int(replicasOf(rs)), manageErr, now)
	return status
}

// failureConditions sets or clears ReplicaFailure: FailedCreate when pods
// were missing, FailedDelete when there were too many.
func failureConditions(conds []appsv1.ReplicaSetCondition, diff int, manageErr error, now time.Time) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	var have bool
	for _, c := range conds {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			have = true
			if manageErr == nil {
				continue
			}
		}
		out = append(out, c)
	}
	if manageErr == nil || have {
		return out
	}
	reason := ""
	switch {
	case diff < 0:
		reason = "FailedCreate"
	case diff > 0:
		reason = "FailedDelete"
	}
	return append(out, appsv1.ReplicaSetCondition{
		Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
	})
}

// replicasOf is spec.replicas, defaulting to 1.
func replicasOf(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}
