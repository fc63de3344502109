package tainteviction

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// Decision is what to do with a pod on a node with NoExecute taints.
type Decision struct {
	// Evict says the pod must go; At is when (the zero time: now).
	Evict bool
	At    time.Time
}

// Decide applies upstream's rule to a pod on a node whose NoExecute
// taints are taints, noticed at since: a taint the pod does not tolerate
// evicts it at once; otherwise it goes after the shortest
// tolerationSeconds among the tolerations that match (negative counts as
// 0); tolerations without tolerationSeconds keep it forever.
func Decide(pod *corev1.Pod, taints []corev1.Taint, since time.Time) Decision {
	if len(taints) == 0 {
		return Decision{}
	}
	var used []corev1.Toleration
	for i := range taints {
		matched := false
		for _, t := range pod.Spec.Tolerations {
			if t.ToleratesTaint(klog.Background(), &taints[i], false) {
				matched = true
				used = append(used, t)
			}
		}
		if !matched {
			return Decision{Evict: true}
		}
	}
	least, found := time.Duration(0), false
	for _, t := range used {
		if t.TolerationSeconds == nil {
			continue
		}
		d := time.Duration(max(*t.TolerationSeconds, 0)) * time.Second
		if !found || d < least {
			least, found = d, true
		}
	}
	if !found {
		return Decision{}
	}
	return Decision{Evict: true, At: since.Add(least)}
}

// noExecuteTaints are the node's taints with effect NoExecute.
func noExecuteTaints(node *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}
