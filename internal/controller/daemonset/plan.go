package daemonset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	intstrutil "k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// NodeState is one node as the controller sees it for a DaemonSet.
type NodeState struct {
	Name string
	// Run: a pod should run there; Keep: a pod there may stay.
	Run, Keep bool
	// Pods are the DaemonSet's pods on (or bound for) the node.
	Pods []*corev1.Pod
}

// Actions are what one sync does: nodes to create a pod on, pods to
// delete.
type Actions struct {
	Create []string
	Delete []*corev1.Pod
}

// Empty says whether there is nothing to do.
func (a Actions) Empty() bool { return len(a.Create) == 0 && len(a.Delete) == 0 }

// Plan is the work of one sync: first what makes every eligible node run
// one pod (manage); only when that is done, the rolling update's step.
func Plan(ds *appsv1.DaemonSet, nodes []NodeState, hash string, now time.Time) Actions {
	if a := manage(ds, nodes); !a.Empty() {
		return a
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return Actions{}
	}
	if maxSurge(ds, desired(nodes)) > 0 {
		return rollSurge(ds, nodes, hash, now)
	}
	return rollUnavailable(ds, nodes, hash, now)
}

// manage creates a pod on every node that should run one and has none,
// deletes failed pods, extra pods and pods on nodes that may not keep
// them.
func manage(ds *appsv1.DaemonSet, nodes []NodeState) Actions {
	var a Actions
	surge := maxSurge(ds, desired(nodes)) > 0
	for _, n := range nodes {
		live, failed := splitPods(n.Pods)
		switch {
		case n.Keep:
			a.Delete = append(a.Delete, failed...)
			if n.Run && len(live) == 0 && len(failed) == 0 {
				a.Create = append(a.Create, n.Name)
			}
			a.Delete = append(a.Delete, extraPods(live, surge)...)
		default:
			a.Delete = append(a.Delete, live...)
			a.Delete = append(a.Delete, failed...)
		}
	}
	return a
}

// splitPods returns the pods not being deleted, running or pending, and
// the failed ones.
func splitPods(pods []*corev1.Pod) (live, failed []*corev1.Pod) {
	for _, p := range pods {
		switch {
		case p.DeletionTimestamp != nil:
		case p.Status.Phase == corev1.PodFailed:
			failed = append(failed, p)
		default:
			live = append(live, p)
		}
	}
	return live, failed
}

// extraPods are the pods beyond one per node (the oldest stays); while
// surging, beyond one old and one new (told apart by revision hash).
func extraPods(live []*corev1.Pod, surge bool) []*corev1.Pod {
	if len(live) <= 1 {
		return nil
	}
	sorted := append([]*corev1.Pod(nil), live...)
	sort.SliceStable(sorted, func(i, j int) bool { return olderPod(sorted[i], sorted[j]) })
	if !surge {
		return sorted[1:]
	}
	seen := map[string]bool{}
	var out []*corev1.Pod
	for _, p := range sorted {
		h := p.Labels[RevisionHashLabel]
		if seen[h] || len(seen) == 2 {
			out = append(out, p)
			continue
		}
		seen[h] = true
	}
	return out
}

// olderPod orders bound pods first, then by creation time and name.
func olderPod(a, b *corev1.Pod) bool {
	if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
		return a.Spec.NodeName != ""
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

func desired(nodes []NodeState) int {
	n := 0
	for _, s := range nodes {
		if s.Run {
			n++
		}
	}
	return n
}

// maxSurge and maxUnavailable resolve the rolling update's bounds against
// the desired count, rounding up; both zero means one unavailable.
func maxSurge(ds *appsv1.DaemonSet, desired int) int {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxSurge == nil {
		return 0
	}
	n, _ := intstrutil.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true)
	return n
}

func maxUnavailable(ds *appsv1.DaemonSet, desired int) int {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	n := 0
	if ru != nil && ru.MaxUnavailable != nil {
		n, _ = intstrutil.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
	}
	if n == 0 && maxSurge(ds, desired) == 0 {
		return 1
	}
	return n
}

// podsOnNode finds the node's new and old pod; ok is false with more
// than one of either, which manage resolves first.
func podsOnNode(n NodeState, hash string) (newPod, oldPod *corev1.Pod, ok bool) {
	live, _ := splitPods(n.Pods)
	for _, p := range live {
		if p.Labels[RevisionHashLabel] == hash {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
			continue
		}
		if oldPod != nil {
			return nil, nil, false
		}
		oldPod = p
	}
	return newPod, oldPod, true
}

// rollUnavailable replaces old pods by deleting them, keeping at most
// maxUnavailable nodes without an available pod; old pods that are not
// available go at once.
func rollUnavailable(ds *appsv1.DaemonSet, nodes []NodeState, hash string, now time.Time) Actions {
	limit := maxUnavailable(ds, desired(nodes))
	unavailable := 0
	var now0, candidates []*corev1.Pod
	for _, n := range nodes {
		if len(n.Pods) == 0 {
			continue
		}
		newPod, oldPod, ok := podsOnNode(n, hash)
		switch {
		case !ok, newPod == nil && oldPod == nil, newPod != nil && oldPod != nil:
			unavailable++
		case newPod != nil:
			if !replicaset.IsPodAvailable(newPod, ds.Spec.MinReadySeconds, now) {
				unavailable++
			}
		case !replicaset.IsPodAvailable(oldPod, ds.Spec.MinReadySeconds, now):
			now0 = append(now0, oldPod)
		default:
			candidates = append(candidates, oldPod)
		}
	}
	room := max(0, min(limit-unavailable, len(candidates)))
	return Actions{Delete: append(now0, candidates[:room]...)}
}

// rollSurge starts a new pod beside the old one on up to maxSurge nodes
// at a time, and deletes the old pod once the new one is available.
func rollSurge(ds *appsv1.DaemonSet, nodes []NodeState, hash string, now time.Time) Actions {
	limit := maxSurge(ds, desired(nodes))
	surging := 0
	var a Actions
	var allowed, candidates []string
	for _, n := range nodes {
		newPod, oldPod, ok := podsOnNode(n, hash)
		switch {
		case !ok:
			surging++
		case oldPod == nil:
		case newPod == nil && !replicaset.IsPodAvailable(oldPod, ds.Spec.MinReadySeconds, now):
			allowed = append(allowed, n.Name)
		case newPod == nil:
			candidates = append(candidates, n.Name)
		case !replicaset.IsPodAvailable(newPod, ds.Spec.MinReadySeconds, now):
			surging++
		default:
			a.Delete = append(a.Delete, oldPod)
		}
	}
	room := max(0, min(limit-surging, len(candidates)))
	a.Create = append(allowed, candidates[:room]...)
	return a
}
