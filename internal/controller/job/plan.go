package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// Condition reasons and messages, as upstream's Job controller writes
// them.
const (
	ReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	ReasonDeadlineExceeded     = "DeadlineExceeded"
	ReasonCompletionsReached   = "CompletionsReached"
	msgBackoffLimit            = "Job has reached the specified backoff limit"
	msgDeadline                = "Job was active longer than specified deadline"
	msgCompletions             = "Reached expected number of succeeded pods"
)

// backoff is the delay before a failed pod is replaced: 10 s doubled per
// failure, at most 6 minutes.
const (
	backoffBase = 10 * time.Second
	backoffMax  = 6 * time.Minute
)

// Decision is one sync's work: pods to create (indexes, -1 when not
// Indexed) and delete, finished pods whose finalizer may go once the
// status holds them, the new status, and when to look again.
type Decision struct {
	Create       []int
	Delete       []*corev1.Pod
	Release      []*corev1.Pod
	Status       batchv1.JobStatus
	RequeueAfter time.Duration
}

// tally is what the pods say.
type tally struct {
	active, terminating, finishedWithFinalizer []*corev1.Pod
	ready                                      int32
	newSucceeded, newFailed                    []types.UID
	completed                                  map[int]bool
	activeIdx                                  map[int]bool
	restarts                                   int32
	lastFailure                                time.Time
}

// Decide is the pure core of the Job controller: the status its pods
// give and the next steps towards parallelism active pods and
// completions successes, failing the Job past backoffLimit or
// activeDeadlineSeconds (FailureTarget first, then Failed once no pod
// runs) and completing it (SuccessCriteriaMet, then Complete).
func Decide(j *batchv1.Job, pods []*corev1.Pod, now time.Time) Decision {
	s := *j.Status.DeepCopy()
	t := count(j, pods)
	if s.StartTime == nil && !suspended(j) {
		st := metav1.NewTime(now)
		s.StartTime = &st
	}
	s.UncountedTerminatedPods = mergeUncounted(s.UncountedTerminatedPods, t)
	d := Decision{Release: t.finishedWithFinalizer}
	succeeded := s.Succeeded + int32(len(s.UncountedTerminatedPods.Succeeded))
	failed := s.Failed + int32(len(s.UncountedTerminatedPods.Failed))
	if isIndexed(j) {
		s.CompletedIndexes = formatIndexes(t.completed)
		succeeded = int32(len(t.completed))
	}
	s.Active, s.Ready, s.Terminating = int32(len(t.active)), &t.ready, ptr(int32(len(t.terminating)))
	switch {
	case finishedJob(j):
		d.Delete = t.active
	case hasCondition(j, batchv1.JobFailureTarget) || hasCondition(j, batchv1.JobSuccessCriteriaMet):
		d.Delete = t.active
		finish(j, &s, t, now)
	default:
		d = decideRunning(j, &s, t, succeeded, failed, now, d)
	}
	d.Status = s
	return d
}

func decideRunning(j *batchv1.Job, s *batchv1.JobStatus, t tally, succeeded, failed int32, now time.Time, d Decision) Decision {
	if reason, msg := failure(j, s, t, failed, now); reason != "" {
		setCondition(s, batchv1.JobFailureTarget, reason, msg, now)
		d.Delete = t.active
		finish(j, s, t, now)
		return d
	}
	if complete(j, t, succeeded) {
		setCondition(s, batchv1.JobSuccessCriteriaMet, ReasonCompletionsReached, msgCompletions, now)
		d.Delete = t.active
		finish(j, s, t, now)
		return d
	}
	if suspended(j) {
		d.Delete = t.active
		return d
	}
	if ads := j.Spec.ActiveDeadlineSeconds; ads != nil && s.StartTime != nil {
		d.RequeueAfter = s.StartTime.Add(time.Duration(*ads) * time.Second).Sub(now)
	}
	if wait := backoffWait(failed, t.lastFailure, now); wait > 0 {
		d.RequeueAfter = minPositive(d.RequeueAfter, wait)
		return d
	}
	d.Create, d.Delete = scale(j, t, succeeded)
	return d
}

// count sorts the pods: active, terminating, finished ones still held by
// the finalizer (new successes and failures), completed indexes.
func count(j *batchv1.Job, pods []*corev1.Pod) tally {
	t := tally{completed: parseIndexes(j.Status.CompletedIndexes), activeIdx: map[int]bool{}}
	uncounted := uncountedSet(j.Status.UncountedTerminatedPods)
	for _, p := range pods {
		switch {
		case finished(p):
			t.countFinished(j, p, uncounted)
		case p.DeletionTimestamp != nil:
			if hasFinalizer(p) {
				t.terminating = append(t.terminating, p)
			}
		default:
			t.active = append(t.active, p)
			t.activeIdx[indexOf(p)] = true
			if replicaset.IsPodReady(p) {
				t.ready++
			}
			for _, c := range p.Status.ContainerStatuses {
				t.restarts += c.RestartCount
			}
		}
	}
	return t
}

func (t *tally) countFinished(j *batchv1.Job, p *corev1.Pod, uncounted map[types.UID]bool) {
	if !hasFinalizer(p) && !uncounted[p.UID] {
		return
	}
	if hasFinalizer(p) {
		t.finishedWithFinalizer = append(t.finishedWithFinalizer, p)
	}
	if p.Status.Phase == corev1.PodSucceeded {
		if !uncounted[p.UID] {
			t.newSucceeded = append(t.newSucceeded, p.UID)
		}
		if i := indexOf(p); isIndexed(j) && i >= 0 && i < int(deref(j.Spec.Completions)) {
			t.completed[i] = true
		}
		return
	}
	if !uncounted[p.UID] {
		t.newFailed = append(t.newFailed, p.UID)
	}
	if at := finishTime(p); at.After(t.lastFailure) {
		t.lastFailure = at
	}
}

// finishTime is when the pod's last container terminated, else when it
// was created.
func finishTime(p *corev1.Pod) time.Time {
	at := p.CreationTimestamp.Time
	for _, c := range p.Status.ContainerStatuses {
		if term := c.State.Terminated; term != nil && term.FinishedAt.After(at) {
			at = term.FinishedAt.Time
		}
	}
	return at
}

func uncountedSet(u *batchv1.UncountedTerminatedPods) map[types.UID]bool {
	out := map[types.UID]bool{}
	if u == nil {
		return out
	}
	for _, id := range append(append([]types.UID(nil), u.Succeeded...), u.Failed...) {
		out[id] = true
	}
	return out
}

func mergeUncounted(u *batchv1.UncountedTerminatedPods, t tally) *batchv1.UncountedTerminatedPods {
	out := &batchv1.UncountedTerminatedPods{}
	if u != nil {
		out = u.DeepCopy()
	}
	out.Succeeded = append(out.Succeeded, t.newSucceeded...)
	out.Failed = append(out.Failed, t.newFailed...)
	return out
}

// failure returns why the Job fails, if it does: too many failures
// (container restarts included with restartPolicy OnFailure) or past its
// deadline.
func failure(j *batchv1.Job, s *batchv1.JobStatus, t tally, failed int32, now time.Time) (string, string) {
	total := failed
	if j.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
		total += t.restarts
	}
	if j.Spec.BackoffLimit != nil && total > *j.Spec.BackoffLimit {
		return ReasonBackoffLimitExceeded, msgBackoffLimit
	}
	if ads := j.Spec.ActiveDeadlineSeconds; ads != nil && s.StartTime != nil && !suspended(j) &&
		!now.Before(s.StartTime.Add(time.Duration(*ads)*time.Second)) {
		return ReasonDeadlineExceeded, msgDeadline
	}
	return "", ""
}

// complete says whether enough pods succeeded: completions of them (or
// indexes), or, without completions, one with no pod left running.
func complete(j *batchv1.Job, t tally, succeeded int32) bool {
	if j.Spec.Completions != nil {
		return succeeded >= *j.Spec.Completions
	}
	return succeeded > 0 && len(t.active) == 0
}

// finish adds Failed or Complete after FailureTarget or
// SuccessCriteriaMet once no pod of the Job runs or terminates.
func finish(j *batchv1.Job, s *batchv1.JobStatus, t tally, now time.Time) {
	if len(t.active) > 0 || len(t.terminating) > 0 {
		return
	}
	if c := condition(s, batchv1.JobFailureTarget); c != nil {
		setCondition(s, batchv1.JobFailed, c.Reason, c.Message, now)
		return
	}
	if c := condition(s, batchv1.JobSuccessCriteriaMet); c != nil {
		setCondition(s, batchv1.JobComplete, c.Reason, c.Message, now)
		ct := metav1.NewTime(now)
		s.CompletionTime = &ct
	}
}

// scale returns the indexes to start and the pods beyond parallelism.
func scale(j *batchv1.Job, t tally, succeeded int32) ([]int, []*corev1.Pod) {
	want := deref(j.Spec.Parallelism)
	if c := j.Spec.Completions; c != nil {
		want = min(want, *c-succeeded)
	} else if succeeded > 0 {
		want = int32(len(t.active))
	}
	active := int32(len(t.active))
	if active > want {
		return nil, t.active[:active-max(want, 0)]
	}
	n := int(want - active)
	if !isIndexed(j) {
		out := make([]int, n)
		for i := range out {
			out[i] = -1
		}
		return out, nil
	}
	var out []int
	for i := 0; i < int(deref(j.Spec.Completions)) && len(out) < n; i++ {
		if !t.completed[i] && !t.activeIdx[i] {
			out = append(out, i)
		}
	}
	return out, nil
}

func backoffWait(failed int32, last time.Time, now time.Time) time.Duration {
	if failed == 0 || last.IsZero() {
		return 0
	}
	d := backoffBase
	for i := int32(1); i < failed && d < backoffMax; i++ {
		d *= 2
	}
	return last.Add(min(d, backoffMax)).Sub(now)
}

func minPositive(a, b time.Duration) time.Duration {
	if a <= 0 || b < a {
		return b
	}
	return a
}

func suspended(j *batchv1.Job) bool { return j.Spec.Suspend != nil && *j.Spec.Suspend }

func finishedJob(j *batchv1.Job) bool {
	return hasCondition(j, batchv1.JobComplete) || hasCondition(j, batchv1.JobFailed)
}

func hasCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	c := condition(&j.Status, t)
	return c != nil
}

func condition(s *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t && s.Conditions[i].Status == corev1.ConditionTrue {
			return &s.Conditions[i]
		}
	}
	return nil
}

func setCondition(s *batchv1.JobStatus, t batchv1.JobConditionType, reason, msg string, now time.Time) {
	if condition(s, t) != nil {
		return
	}
	s.Conditions = append(s.Conditions, batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue,
		LastProbeTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: msg})
}

func deref(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}

func ptr[T any](v T) *T { return &v }
