package job

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	jobregistry "github.com/svcplane/svcplane/internal/apiserver/registry/job"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func testJob(completions, parallelism int32, mutate func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "ns", UID: "job-uid"}}
	j.Spec.Completions, j.Spec.Parallelism = &completions, &parallelism
	j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	j.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "busybox"}}
	jobregistry.Default(j)
	jobregistry.GenerateSelector(j)
	start := metav1.NewTime(now.Add(-time.Minute))
	j.Status.StartTime = &start
	if mutate != nil {
		mutate(j)
	}
	return j
}

// mkPods makes pods from a string of states: r running, p pending, s
// succeeded, f failed; an Indexed Job's pod i gets index i.
func mkPods(j *batchv1.Job, states string) []*corev1.Pod {
	var out []*corev1.Pod
	for i, st := range states {
		idx := -1
		if isIndexed(j) {
			idx = i
		}
		p := NewPod(j, idx)
		p.Name, p.UID = fmt.Sprintf("pi-%d", i), types.UID(fmt.Sprintf("uid-%d", i))
		p.CreationTimestamp = metav1.NewTime(now.Add(-5 * time.Second))
		p.Status.Phase = map[rune]corev1.PodPhase{'r': corev1.PodRunning, 'p': corev1.PodPending,
			's': corev1.PodSucceeded, 'f': corev1.PodFailed}[st]
		out = append(out, p)
	}
	return out
}

func summary(d Decision) string {
	var parts []string
	if len(d.Create) > 0 {
		parts = append(parts, fmt.Sprintf("create %v", d.Create))
	}
	if len(d.Delete) > 0 {
		parts = append(parts, fmt.Sprintf("delete %d", len(d.Delete)))
	}
	s := d.Status
	u := s.UncountedTerminatedPods
	parts = append(parts, fmt.Sprintf("active=%d uncounted=%d/%d", s.Active, len(u.Succeeded), len(u.Failed)))
	for _, c := range s.Conditions {
		parts = append(parts, fmt.Sprintf("%s:%s", c.Type, c.Reason))
	}
	if s.CompletedIndexes != "" {
		parts = append(parts, "indexes="+s.CompletedIndexes)
	}
	return strings.Join(parts, " ")
}

func TestDecide(t *testing.T) {
	indexed := func(j *batchv1.Job) { j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion) }
	cases := []struct {
		name        string
		completions int32
		parallelism int32
		mutate      func(*batchv1.Job)
		pods        string
		want        string
	}{
		{"starts parallelism pods", 5, 2, nil, "", "create [-1 -1] active=0 uncounted=0/0"},
		{"keeps parallelism", 5, 2, nil, "rs", "create [-1] active=1 uncounted=1/0"},
		{"no more than completions left", 5, 2, nil, "ssss", "create [-1] active=0 uncounted=4/0"},
		{"success criteria, then complete", 5, 2, nil, "sssss", "active=0 uncounted=5/0 SuccessCriteriaMet:CompletionsReached Complete:CompletionsReached"},
		{"backoff limit exceeded", 1, 1, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr(int32(1)) }, "ffr",
			"delete 1 active=1 uncounted=0/2 FailureTarget:BackoffLimitExceeded"},
		{"deadline exceeded", 1, 1, func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr(int64(30)) }, "r",
			"delete 1 active=1 uncounted=0/0 FailureTarget:DeadlineExceeded"},
		{"failed after its pods are gone", 1, 1, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "DeadlineExceeded"}}
		}, "", "active=0 uncounted=0/0 FailureTarget:DeadlineExceeded Failed:DeadlineExceeded"},
		{"failed pod waits for back-off", 3, 1, nil, "f", "active=0 uncounted=0/1"},
		{"suspended deletes its pods", 3, 2, func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) }, "rr", "delete 2 active=2 uncounted=0/0"},
		{"indexed: missing indexes", 4, 2, indexed, "s", "create [1 2] active=0 uncounted=1/0 indexes=0"},
		{"indexed: complete", 3, 3, indexed, "sss", "active=0 uncounted=3/0 SuccessCriteriaMet:CompletionsReached Complete:CompletionsReached indexes=0-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := testJob(tc.completions, tc.parallelism, tc.mutate)
			if got := summary(Decide(j, mkPods(j, tc.pods), now)); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNewPod(t *testing.T) {
	j := testJob(3, 1, func(j *batchv1.Job) { j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion) })
	p := NewPod(j, 2)
	if p.GenerateName != "pi-2-" || p.Spec.Hostname != "pi-2" || p.Labels[CompletionIndexKey] != "2" || p.Annotations[CompletionIndexKey] != "2" {
		t.Errorf("indexed pod: %+v", p.ObjectMeta)
	}
	if p.Labels[jobregistry.JobNameLabel] != "pi" || p.Labels[jobregistry.ControllerUIDLabel] != "job-uid" || !hasFinalizer(p) {
		t.Errorf("labels %v finalizers %v", p.Labels, p.Finalizers)
	}
	if env := p.Spec.Containers[0].Env; len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" {
		t.Errorf("env %+v", env)
	}
}

func TestIndexes(t *testing.T) {
	for in, want := range map[string]string{"": "", "0": "0", "0,1": "0,1", "0-2": "0-2", "0,1,2,4,6-8": "0-2,4,6-8"} {
		if got := formatIndexes(parseIndexes(in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
