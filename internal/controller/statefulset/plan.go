package statefulset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// Action is one step: create the pod of an ordinal at a revision, or
// delete a pod.
type Action struct {
	Ordinal  int
	Revision string
	Delete   *corev1.Pod
}

// Revisions are the set's current and update revision names.
type Revisions struct {
	Current, Update string
}

// Plan decides the next steps for set over the pods it owns: create the
// missing ordinals in ascending order, replace failed pods, delete the
// ordinals beyond replicas from the highest, then roll pods to the
// update revision from the highest ordinal down to the partition. With
// OrderedReady each step waits until the pods before it are Running and
// Ready (and no pod is terminating), so at most one step is returned;
// Parallel returns every creation and deletion at once.
func Plan(set *appsv1.StatefulSet, pods []*corev1.Pod, rev Revisions, now time.Time) []Action {
	p := planner{set: set, rev: rev, now: now, monotonic: set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement}
	p.split(pods)
	if p.replicas() || p.condemn() {
		return p.out
	}
	if len(p.out) == 0 && set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		p.roll()
	}
	return p.out
}

type planner struct {
	set       *appsv1.StatefulSet
	rev       Revisions
	now       time.Time
	monotonic bool
	start, n  int
	inRange   map[int]*corev1.Pod
	condemned []*corev1.Pod
	out       []Action
}

// Range is the set's ordinals: [start, start+replicas).
func Range(set *appsv1.StatefulSet) (start, n int) {
	if set.Spec.Ordinals != nil {
		start = int(set.Spec.Ordinals.Start)
	}
	n = 1
	if set.Spec.Replicas != nil {
		n = int(*set.Spec.Replicas)
	}
	return start, n
}

func (p *planner) split(pods []*corev1.Pod) {
	p.start, p.n = Range(p.set)
	p.inRange = map[int]*corev1.Pod{}
	for _, pod := range pods {
		o := Ordinal(p.set, pod.Name)
		switch {
		case o < 0:
		case o >= p.start && o < p.start+p.n:
			p.inRange[o] = pod
		default:
			p.condemned = append(p.condemned, pod)
		}
	}
	sort.Slice(p.condemned, func(i, j int) bool {
		return Ordinal(p.set, p.condemned[i].Name) > Ordinal(p.set, p.condemned[j].Name)
	})
}

// replicas creates and repairs the ordinals in range; true means stop
// (an OrderedReady step was taken or must be waited for).
func (p *planner) replicas() bool {
	for o := p.start; o < p.start+p.n; o++ {
		pod := p.inRange[o]
		switch {
		case pod == nil:
			p.out = append(p.out, Action{Ordinal: o, Revision: p.revisionFor(o)})
		case pod.DeletionTimestamp != nil:
			if p.monotonic {
				return true
			}
			continue
		case pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded:
			p.out = append(p.out, Action{Delete: pod})
		case !p.healthy(pod):
			if p.monotonic {
				return true
			}
			continue
		default:
			continue
		}
		if p.monotonic {
			return true
		}
	}
	return false
}

// condemn deletes the pods beyond replicas, highest ordinal first. With
// OrderedReady an unhealthy pod other than the first unhealthy one (by
// ordinal) halts the scale-down, as upstream's.
func (p *planner) condemn() bool {
	first := p.firstUnhealthy()
	for _, pod := range p.condemned {
		if pod.DeletionTimestamp != nil {
			if p.monotonic {
				return true
			}
			continue
		}
		if p.monotonic && !p.healthy(pod) && pod != first {
			return true
		}
		p.out = append(p.out, Action{Delete: pod})
		if p.monotonic {
			return true
		}
	}
	return false
}

// firstUnhealthy is the pod of lowest ordinal that is not Running and
// available, in range first, then among the condemned.
func (p *planner) firstUnhealthy() *corev1.Pod {
	for o := p.start; o < p.start+p.n; o++ {
		if pod := p.inRange[o]; pod != nil && !p.healthy(pod) {
			return pod
		}
	}
	for i := len(p.condemned) - 1; i >= 0; i-- {
		if !p.healthy(p.condemned[i]) {
			return p.condemned[i]
		}
	}
	return nil
}

// roll deletes the highest pod not at the update revision (it comes back
// at it), waiting for each updated pod to be healthy.
func (p *planner) roll() {
	for o := p.start + p.n - 1; o >= p.start+p.partition(); o-- {
		pod := p.inRange[o]
		if pod == nil {
			continue
		}
		if pod.Labels[RevisionLabel] != p.rev.Update && pod.DeletionTimestamp == nil {
			p.out = append(p.out, Action{Delete: pod})
			return
		}
		if !p.healthy(pod) || pod.DeletionTimestamp != nil {
			return
		}
	}
}

func (p *planner) partition() int {
	ru := p.set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.Partition == nil {
		return 0
	}
	return int(*ru.Partition)
}

// revisionFor is the revision a new pod of ordinal gets: below the
// partition of a RollingUpdate the current one, else the update one.
func (p *planner) revisionFor(o int) string {
	if p.set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && o < p.start+p.partition() {
		return p.rev.Current
	}
	return p.rev.Update
}

func (p *planner) healthy(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodRunning && replicaset.IsPodAvailable(pod, p.set.Spec.MinReadySeconds, p.now)
}

// CalculateStatus counts the set's pods: created, ready, available, at
// the current and at the update revision; a RollingUpdate whose pods are
// all updated and ready makes the update revision current.
func CalculateStatus(set *appsv1.StatefulSet, pods []*corev1.Pod, rev Revisions, now time.Time) appsv1.StatefulSetStatus {
	s := *set.Status.DeepCopy()
	s.ObservedGeneration = set.Generation
	s.CurrentRevision, s.UpdateRevision = rev.Current, rev.Update
	s.Replicas, s.ReadyReplicas, s.AvailableReplicas, s.CurrentReplicas, s.UpdatedReplicas = 0, 0, 0, 0, 0
	for _, pod := range pods {
		if Ordinal(set, pod.Name) < 0 {
			continue
		}
		s.Replicas++
		if replicaset.IsPodReady(pod) && pod.DeletionTimestamp == nil {
			s.ReadyReplicas++
			if replicaset.IsPodAvailable(pod, set.Spec.MinReadySeconds, now) {
				s.AvailableReplicas++
			}
		}
		switch pod.Labels[RevisionLabel] {
		case rev.Current:
			s.CurrentReplicas++
			if rev.Current == rev.Update {
				s.UpdatedReplicas++
			}
		case rev.Update:
			s.UpdatedReplicas++
		}
	}
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		s.UpdatedReplicas == s.Replicas && s.ReadyReplicas == s.Replicas {
		s.CurrentReplicas, s.CurrentRevision = s.UpdatedReplicas, s.UpdateRevision
	}
	return s
}
