package scheduler

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ErrNoNodes is upstream's error when the cluster has no nodes at all.
var ErrNoNodes = errors.New("no nodes available to schedule pods")

// FitError says why no node could take a pod, worded as upstream's
// scheduler words its FailedScheduling events.
type FitError struct {
	NumNodes int
	// Failures holds each node's failure.
	Failures map[string]Failure
	// PreemptionNever is set when the pod may not preempt others.
	PreemptionNever bool
}

// Error is "0/N nodes are available: <reason histogram>." followed by
// what preemption found.
func (e *FitError) Error() string {
	reasons := map[string]int{}
	preempt := map[string]int{}
	for _, f := range e.Failures {
		reasons[f.Reason]++
		if f.Resolvable {
			preempt["No preemption victims found for incoming pod"]++
		} else {
			preempt["Preemption is not helpful for scheduling"]++
		}
	}
	msg := fmt.Sprintf("0/%d nodes are available: %s.", e.NumNodes, histogram(reasons))
	if e.PreemptionNever {
		return msg + " not eligible due to preemptionPolicy=Never."
	}
	return msg + fmt.Sprintf(" preemption: 0/%d nodes are available: %s.", e.NumNodes, histogram(preempt))
}

// histogram is "N reason" items sorted as strings, joined by commas.
func histogram(counts map[string]int) string {
	items := make([]string, 0, len(counts))
	for reason, n := range counts {
		items = append(items, fmt.Sprintf("%d %s", n, reason))
	}
	sort.Strings(items)
	return strings.Join(items, ", ")
}

// Schedule picks the node for pod among nodes: of those that pass every
// filter, the one with the fewest pods (then by name). It returns
// ErrNoNodes or a *FitError when none fits.
func Schedule(pod *corev1.Pod, nodes []NodeInfo) (string, error) {
	return ScheduleWithVolumes(pod, nodes, PodVolumes{})
}

// ScheduleWithVolumes is Schedule with the pod's claims and volumes
// checked as upstream's VolumeBinding filter checks them.
func ScheduleWithVolumes(pod *corev1.Pod, nodes []NodeInfo, vols PodVolumes) (string, error) {
	if len(nodes) == 0 {
		return "", ErrNoNodes
	}
	fit := &FitError{NumNodes: len(nodes), Failures: map[string]Failure{}}
	best, c := -1, newCluster(nodes)
	c.volumes = vols
	for i, n := range nodes {
		if f := c.filter(pod, n); f != nil {
			fit.Failures[n.Node.Name] = *f
			continue
		}
		if best < 0 || n.Pods < nodes[best].Pods || (n.Pods == nodes[best].Pods && n.Node.Name < nodes[best].Node.Name) {
			best = i
		}
	}
	if best < 0 {
		p := pod.Spec.PreemptionPolicy
		fit.PreemptionNever = p != nil && *p == corev1.PreemptNever
		return "", fit
	}
	return nodes[best].Node.Name, nil
}
