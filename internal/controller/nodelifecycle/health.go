package nodelifecycle

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition texts, as upstream's node lifecycle controller writes them.
const (
	reasonUnknown      = "NodeStatusUnknown"
	messageUnknown     = "Kubelet stopped posting node status."
	reasonNeverUpdated = "NodeStatusNeverUpdated"
	messageNever       = "Kubelet never posted node status."
)

// health is what the controller last saw of a node's signs of life, and
// when (by its own clock, so that node clocks do not matter).
type health struct {
	heartbeat metav1.Time
	renew     *metav1.MicroTime
	probe     time.Time
}

// observe records the node's Ready heartbeat and lease renewal; any
// change since last time moves the probe time to now.
func observe(h *health, node *corev1.Node, lease *coordinationv1.Lease, now time.Time) *health {
	var renew *metav1.MicroTime
	if lease != nil {
		renew = lease.Spec.RenewTime
	}
	var heartbeat metav1.Time
	if c := condition(node, corev1.NodeReady); c != nil {
		heartbeat = c.LastHeartbeatTime
	}
	if h == nil {
		return &health{heartbeat: heartbeat, renew: renew, probe: now}
	}
	if !heartbeat.Equal(&h.heartbeat) || !renew.Equal(h.renew) {
		return &health{heartbeat: heartbeat, renew: renew, probe: now}
	}
	return h
}

// silent says whether the node has not been heard from within grace.
func (h *health) silent(now time.Time, grace time.Duration) bool {
	return now.Sub(h.probe) > grace
}

// unknownConditions sets the node's Ready, MemoryPressure, DiskPressure
// and PIDPressure conditions to Unknown, as upstream does for a node that
// stopped posting status; it says whether anything changed.
func unknownConditions(node *corev1.Node, now time.Time) bool {
	ts := metav1.NewTime(now)
	changed := false
	for _, t := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		c := condition(node, t)
		switch {
		case c == nil:
			node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{Type: t, Status: corev1.ConditionUnknown,
				Reason: reasonNeverUpdated, Message: messageNever, LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: ts})
		case c.Status != corev1.ConditionUnknown:
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, reasonUnknown, messageUnknown, ts
		default:
			continue
		}
		changed = true
	}
	return changed
}

func condition(node *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == t {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}

// readyStatus is the node's Ready status, Unknown when missing.
func readyStatus(node *corev1.Node) corev1.ConditionStatus {
	if c := condition(node, corev1.NodeReady); c != nil {
		return c.Status
	}
	return corev1.ConditionUnknown
}
