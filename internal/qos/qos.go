// Package qos computes a pod's quality-of-service class as upstream's
// k8s.io/kubernetes/pkg/apis/core/helper/qos does. The API server stores it in
// status.qosClass at create; the node agent uses it to place the pod's cgroup.
package qos

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Compute returns the QoS class of a pod spec: BestEffort without any
// cpu or memory request or limit, Guaranteed when every container limits
// both and all requests equal the limits, Burstable otherwise.
func Compute(spec *corev1.PodSpec) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	for _, c := range slices.Concat(spec.Containers, spec.InitContainers) {
		addResources(requests, c.Resources.Requests)
		found := addResources(limits, c.Resources.Limits)
		if !found.HasAll(string(corev1.ResourceCPU), string(corev1.ResourceMemory)) {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	for name, req := range requests {
		if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
			guaranteed = false
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// addResources sums the positive cpu and memory quantities of list into
// total and returns the names it found.
func addResources(total, list corev1.ResourceList) sets.Set[string] {
	found := sets.New[string]()
	for name, q := range list {
		if (name != corev1.ResourceCPU && name != corev1.ResourceMemory) || q.Sign() <= 0 {
			continue
		}
		found.Insert(string(name))
		sum := q.DeepCopy()
		if prev, ok := total[name]; ok {
			sum.Add(prev)
		}
		total[name] = sum
	}
	return found
}
