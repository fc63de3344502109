package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Filter failure texts, as upstream's plugins word them.
const (
	reasonUnschedulable = "node(s) were unschedulable"
	reasonAffinity      = "node(s) didn't match Pod's node affinity/selector"
	reasonTooManyPods   = "Too many pods"
	taintUnschedulable  = "node.kubernetes.io/unschedulable"
	taintNotReady       = "node.kubernetes.io/not-ready"
	taintUnreachable    = "node.kubernetes.io/unreachable"
)

// NodeInfo is a node with what is already placed on it.
type NodeInfo struct {
	Node *corev1.Node
	// Pods counts the pods bound to the node that have not finished.
	Pods int
	// Requested sums their CPU (milli) and memory requests.
	MilliCPU, Memory int64
	// PodList holds those pods, for the topology spread and inter-pod
	// affinity filters.
	PodList []*corev1.Pod
}

// Failure is why a node cannot take a pod. Resolvable failures (too few
// resources) could be cured by preemption; the others could not.
type Failure struct {
	Reason     string
	Resolvable bool
}

// filter runs upstream's default filters in their order (NodeUnschedulable,
// TaintToleration, NodeAffinity, NodeResourcesFit, VolumeBinding,
// PodTopologySpread, InterPodAffinity) and returns the first failure, or nil when the node
// fits.
func (c cluster) filter(pod *corev1.Pod, n NodeInfo) *Failure {
	for _, f := range []func(*corev1.Pod, NodeInfo) *Failure{fitUnschedulable, fitTaints, fitAffinity, fitResources, c.fitVolumes, c.fitSpread, c.fitInterPod} {
		if failure := f(pod, n); failure != nil {
			return failure
		}
	}
	return nil
}

func fitUnschedulable(pod *corev1.Pod, n NodeInfo) *Failure {
	taint := corev1.Taint{Key: taintUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if n.Node.Spec.Unschedulable && !tolerated(pod.Spec.Tolerations, taint) {
		return &Failure{Reason: reasonUnschedulable}
	}
	return nil
}

// fitTaints rejects a node with a NoSchedule or NoExecute taint the pod
// does not tolerate. A node whose Ready condition is not True counts as
// tainted not-ready or unreachable even before the node lifecycle
// controller writes the taint.
func fitTaints(pod *corev1.Pod, n NodeInfo) *Failure {
	for _, t := range effectiveTaints(n.Node) {
		if t.Effect == corev1.TaintEffectPreferNoSchedule || tolerated(pod.Spec.Tolerations, t) {
			continue
		}
		return &Failure{Reason: fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)}
	}
	return nil
}

func effectiveTaints(node *corev1.Node) []corev1.Taint {
	taints := node.Spec.Taints
	implied := ""
	switch readyStatus(node) {
	case corev1.ConditionFalse:
		implied = taintNotReady
	case corev1.ConditionUnknown:
		implied = taintUnreachable
	}
	if implied == "" {
		return taints
	}
	for _, t := range taints {
		if t.Key == implied {
			return taints
		}
	}
	return append([]corev1.Taint{{Key: implied, Effect: corev1.TaintEffectNoSchedule}}, taints...)
}

// readyStatus is the node's Ready condition status, Unknown when missing.
func readyStatus(node *corev1.Node) corev1.ConditionStatus {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

func tolerated(tolerations []corev1.Toleration, taint corev1.Taint) bool {
	for _, t := range tolerations {
		if tolerates(t, taint) {
			return true
		}
	}
	return false
}

// tolerates matches one toleration against one taint: an empty effect or
// key matches any; Exists ignores the value; Equal (or empty) compares it.
func tolerates(t corev1.Toleration, taint corev1.Taint) bool {
	if (t.Effect != "" && t.Effect != taint.Effect) || (t.Key != "" && t.Key != taint.Key) {
		return false
	}
	switch t.Operator {
	case "", corev1.TolerationOpEqual:
		return t.Value == taint.Value
	case corev1.TolerationOpExists:
		return true
	}
	return false
}

// fitAffinity checks spec.nodeSelector and required node affinity.
func fitAffinity(pod *corev1.Pod, n NodeInfo) *Failure {
	if !labels.SelectorFromSet(pod.Spec.NodeSelector).Matches(labels.Set(n.Node.Labels)) {
		return &Failure{Reason: reasonAffinity}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if termMatches(term, n.Node) {
			return nil
		}
	}
	return &Failure{Reason: reasonAffinity}
}

// termMatches ANDs a term's expressions; an empty term matches nothing.
func termMatches(term corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for _, e := range term.MatchExpressions {
		if !requirementMatches(e, labels.Set(node.Labels)) {
			return false
		}
	}
	for _, e := range term.MatchFields {
		if e.Key != "metadata.name" || !requirementMatches(e, labels.Set{"metadata.name": node.Name}) {
			return false
		}
	}
	return true
}

var operators = map[corev1.NodeSelectorOperator]selection.Operator{
	corev1.NodeSelectorOpIn: selection.In, corev1.NodeSelectorOpNotIn: selection.NotIn,
	corev1.NodeSelectorOpExists: selection.Exists, corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	corev1.NodeSelectorOpGt: selection.GreaterThan, corev1.NodeSelectorOpLt: selection.LessThan,
}

func requirementMatches(e corev1.NodeSelectorRequirement, set labels.Set) bool {
	op, ok := operators[e.Operator]
	if !ok {
		return false
	}
	r, err := labels.NewRequirement(e.Key, op, e.Values)
	return err == nil && r.Matches(set)
}

// fitResources checks the pod count and CPU and memory requests against
// what the node reports allocatable; a resource it does not report is not
// checked.
func fitResources(pod *corev1.Pod, n NodeInfo) *Failure {
	alloc := n.Node.Status.Allocatable
	if q, ok := alloc[corev1.ResourcePods]; ok && int64(n.Pods)+1 > q.Value() {
		return &Failure{Reason: reasonTooManyPods, Resolvable: true}
	}
	cpu, mem := Requests(pod)
	if q, ok := alloc[corev1.ResourceCPU]; ok && cpu > 0 && n.MilliCPU+cpu > q.MilliValue() {
		return &Failure{Reason: "Insufficient cpu", Resolvable: true}
	}
	if q, ok := alloc[corev1.ResourceMemory]; ok && mem > 0 && n.Memory+mem > q.Value() {
		return &Failure{Reason: "Insufficient memory", Resolvable: true}
	}
	return nil
}

// Requests is a pod's effective CPU (milli) and memory requests: the sum
// over its containers or the largest init container, whichever is more.
func Requests(pod *corev1.Pod) (int64, int64) {
	var cpu, mem int64
	for _, c := range pod.Spec.Containers {
		cpu += quantity(c.Resources.Requests, corev1.ResourceCPU, true)
		mem += quantity(c.Resources.Requests, corev1.ResourceMemory, false)
	}
	for _, c := range pod.Spec.InitContainers {
		cpu = max(cpu, quantity(c.Resources.Requests, corev1.ResourceCPU, true))
		mem = max(mem, quantity(c.Resources.Requests, corev1.ResourceMemory, false))
	}
	return cpu, mem
}

func quantity(list corev1.ResourceList, name corev1.ResourceName, milli bool) int64 {
	q, ok := list[name]
	if !ok {
		return 0
	}
	if milli {
		return q.MilliValue()
	}
	return q.Value()
}
