package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Taint keys the controller manages, as upstream names them.
const (
	TaintNotReady           = "node.kubernetes.io/not-ready"
	TaintUnreachable        = "node.kubernetes.io/unreachable"
	TaintUnschedulable      = "node.kubernetes.io/unschedulable"
	TaintMemoryPressure     = "node.kubernetes.io/memory-pressure"
	TaintDiskPressure       = "node.kubernetes.io/disk-pressure"
	TaintPIDPressure        = "node.kubernetes.io/pid-pressure"
	TaintNetworkUnavailable = "node.kubernetes.io/network-unavailable"
)

// managed says whether the controller owns a taint (by key and effect).
func managed(t corev1.Taint) bool {
	switch t.Key {
	case TaintNotReady, TaintUnreachable:
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	case TaintUnschedulable, TaintMemoryPressure, TaintDiskPressure, TaintPIDPressure, TaintNetworkUnavailable:
		return t.Effect == corev1.TaintEffectNoSchedule
	}
	return false
}

// desiredTaints are the condition taints a node should carry: NoSchedule
// for not-ready, unreachable, unschedulable and each pressure, and
// NoExecute for not-ready and unreachable (package tainteviction acts on
// those).
func desiredTaints(node *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	add := func(key string, effect corev1.TaintEffect) {
		out = append(out, corev1.Taint{Key: key, Effect: effect})
	}
	switch readyStatus(node) {
	case corev1.ConditionFalse:
		add(TaintNotReady, corev1.TaintEffectNoSchedule)
		add(TaintNotReady, corev1.TaintEffectNoExecute)
	case corev1.ConditionUnknown:
		add(TaintUnreachable, corev1.TaintEffectNoSchedule)
		add(TaintUnreachable, corev1.TaintEffectNoExecute)
	}
	pressure := map[corev1.NodeConditionType]string{
		corev1.NodeMemoryPressure: TaintMemoryPressure, corev1.NodeDiskPressure: TaintDiskPressure,
		corev1.NodePIDPressure: TaintPIDPressure, corev1.NodeNetworkUnavailable: TaintNetworkUnavailable,
	}
	for _, t := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable} {
		if c := condition(node, t); c != nil && c.Status == corev1.ConditionTrue {
			add(pressure[t], corev1.TaintEffectNoSchedule)
		}
	}
	if node.Spec.Unschedulable {
		add(TaintUnschedulable, corev1.TaintEffectNoSchedule)
	}
	return out
}

// reconcileTaints keeps the taints the controller does not manage and
// the managed ones still desired, and adds the missing ones (NoExecute
// stamped with now). It says whether anything changed.
func reconcileTaints(have, want []corev1.Taint, now time.Time) ([]corev1.Taint, bool) {
	wanted := map[corev1.Taint]bool{}
	for _, t := range want {
		wanted[t] = true
	}
	var out []corev1.Taint
	present := map[corev1.Taint]bool{}
	changed := false
	for _, t := range have {
		id := corev1.Taint{Key: t.Key, Effect: t.Effect}
		if managed(id) && !wanted[id] {
			changed = true
			continue
		}
		present[id] = true
		out = append(out, t)
	}
	for _, t := range want {
		if present[t] {
			continue
		}
		if t.Effect == corev1.TaintEffectNoExecute {
			ts := metav1.NewTime(now)
			t.TimeAdded = &ts
		}
		out = append(out, t)
		changed = true
	}
	return out, changed
}
