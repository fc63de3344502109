package daemonset

import (
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	dsregistry "github.com/svcplane/svcplane/internal/apiserver/registry/daemonset"
	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// CalculateStatus counts, over the nodes, what `kubectl get ds` and
// `kubectl rollout status ds` read: desired, current, misscheduled,
// ready, available and updated pods (the oldest pod of each node
// counts), and the observed generation.
func CalculateStatus(ds *appsv1.DaemonSet, nodes []NodeState, hash string, now time.Time) appsv1.DaemonSetStatus {
	s := *ds.Status.DeepCopy()
	var desired, current, mis, ready, available, updated int32
	gen := strconv.FormatInt(dsregistry.TemplateGeneration(ds), 10)
	for _, n := range nodes {
		scheduled := len(n.Pods) > 0
		switch {
		case n.Run && scheduled:
			desired++
			current++
			pods := append([]*corev1.Pod(nil), n.Pods...)
			sort.SliceStable(pods, func(i, j int) bool { return olderPod(pods[i], pods[j]) })
			p := pods[0]
			if replicaset.IsPodReady(p) {
				ready++
				if replicaset.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) {
					available++
				}
			}
			if p.Labels[RevisionHashLabel] == hash || p.Labels[TemplateGenerationLabel] == gen {
				updated++
			}
		case n.Run:
			desired++
		case scheduled:
			mis++
		}
	}
	s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberMisscheduled = desired, current, mis
	s.NumberReady, s.NumberAvailable, s.UpdatedNumberScheduled = ready, available, updated
	s.NumberUnavailable = desired - available
	s.ObservedGeneration = ds.Generation
	return s
}
