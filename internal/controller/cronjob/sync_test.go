package cronjob

import (
	"context"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

// syncNow is the clock of TestSync: 10:05:10, so the every-minute
// CronJob is due at 10:05.
var syncNow = time.Date(2025, 1, 1, 10, 5, 10, 0, time.UTC)

func syncCronJob(policy batchv1.ConcurrencyPolicy) *batchv1.CronJob {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "ns", UID: "cj",
		CreationTimestamp: metav1.NewTime(syncNow.Add(-time.Hour))}}
	cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy = "* * * * *", policy
	cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = ptr(int32(1)), ptr(int32(1))
	last := metav1.NewTime(syncNow.Add(-time.Minute).Truncate(time.Minute))
	cj.Status.LastScheduleTime = &last
	return cj
}

// ownedJob is a Job of cj started age ago, finished as cond ("" runs).
func ownedJob(cj *batchv1.CronJob, name string, age time.Duration, cond batchv1.JobConditionType) *batchv1.Job {
	j := NewJob(cj, syncNow.Add(-age), time.UTC)
	j.Name, j.UID = name, types.UID(name)
	start := metav1.NewTime(syncNow.Add(-age))
	j.Status.StartTime = &start
	if cond != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
	}
	return j
}

// TestSync runs one sync of a CronJob due now over a fake clientset and
// lists the Jobs created and deleted: the concurrency policies with a
// Job still running, and the history limits (1 each) on finished Jobs.
func TestSync(t *testing.T) {
	cases := []struct {
		name   string
		policy batchv1.ConcurrencyPolicy
		jobs   func(cj *batchv1.CronJob) []*batchv1.Job
		want   []string
	}{
		{"Allow starts beside the running Job", batchv1.AllowConcurrent, func(cj *batchv1.CronJob) []*batchv1.Job {
			return []*batchv1.Job{ownedJob(cj, "old", time.Minute, "")}
		}, []string{"create hello-28928765"}},
		{"Forbid waits for the running Job", batchv1.ForbidConcurrent, func(cj *batchv1.CronJob) []*batchv1.Job {
			return []*batchv1.Job{ownedJob(cj, "old", time.Minute, "")}
		}, nil},
		{"Replace deletes the running Job first", batchv1.ReplaceConcurrent, func(cj *batchv1.CronJob) []*batchv1.Job {
			return []*batchv1.Job{ownedJob(cj, "old", time.Minute, "")}
		}, []string{"delete old", "create hello-28928765"}},
		{"history limits keep the newest finished of each kind", batchv1.ForbidConcurrent, func(cj *batchv1.CronJob) []*batchv1.Job {
			return []*batchv1.Job{ownedJob(cj, "ok1", 4*time.Minute, batchv1.JobComplete), ownedJob(cj, "ok2", 3*time.Minute, batchv1.JobComplete),
				ownedJob(cj, "bad1", 2*time.Minute, batchv1.JobFailed), ownedJob(cj, "bad2", time.Minute, batchv1.JobFailed)}
		}, []string{"create hello-28928765", "delete ok1", "delete bad1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := syncCronJob(tc.policy)
			jobs := tc.jobs(cj)
			for _, j := range jobs {
				if !finished(j) {
					cj.Status.Active = append(cj.Status.Active, corev1.ObjectReference{Kind: "Job", Namespace: "ns", Name: j.Name, UID: j.UID})
				}
			}
			if got := syncActions(t, cj, jobs); !slices.Equal(got, tc.want) {
				t.Errorf("actions %q, want %q", got, tc.want)
			}
		})
	}
}

// syncActions runs one sync of cj with its Jobs and returns the Jobs
// created and deleted, in order.
func syncActions(t *testing.T, cj *batchv1.CronJob, jobs []*batchv1.Job) []string {
	t.Helper()
	objs := []runtime.Object{cj}
	for _, j := range jobs {
		objs = append(objs, j)
	}
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, CronJobs: f.Batch().V1().CronJobs(), Jobs: f.Batch().V1().Jobs(),
		Recorder: record.NewFakeRecorder(20), Now: func() time.Time { return syncNow }, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Batch().V1().CronJobs().Informer().GetIndexer().Add(cj)
	for _, j := range jobs {
		_ = f.Batch().V1().Jobs().Informer().GetIndexer().Add(j)
	}
	if err := c.sync(context.Background(), "ns/hello"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range client.Actions() {
		switch a := a.(type) {
		case k8stesting.CreateAction:
			if j, ok := a.GetObject().(*batchv1.Job); ok {
				got = append(got, "create "+j.Name)
			}
		case k8stesting.DeleteAction:
			got = append(got, "delete "+a.GetName())
		}
	}
	return got
}
