package job

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

// TestSync runs one sync of a Job of 5 completions, 2 at a time, over a
// fake clientset: the pods it creates, the finished pods whose tracking
// finalizer it releases, and the status it leaves (succeeded, active,
// conditions).
func TestSync(t *testing.T) {
	cases := []struct {
		name, pods string
		want       []string
		status     string
	}{
		{"starts 2 pods", "", []string{"create pod", "create pod"}, "succeeded=0 active=0"},
		{"counts a success and keeps 2 running", "rs", []string{"create pod", "release pi-1"}, "succeeded=1 active=1"},
		{"no more pods than completions left", "rssss", []string{"release pi-1", "release pi-2", "release pi-3", "release pi-4"},
			"succeeded=4 active=1"},
		{"complete", "sssss", []string{"release pi-0", "release pi-1", "release pi-2", "release pi-3", "release pi-4"},
			"succeeded=5 active=0 SuccessCriteriaMet Complete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := testJob(5, 2, nil)
			got, status := syncJob(t, j, mkPods(j, tc.pods))
			if !slices.Equal(got, tc.want) || status != tc.status {
				t.Errorf("actions %q status %q\nwant    %q status %q", got, status, tc.want, tc.status)
			}
		})
	}
}

// syncJob runs one sync and returns the pods created and released
// (sorted), and the Job's status afterwards.
func syncJob(t *testing.T, j *batchv1.Job, pods []*corev1.Pod) ([]string, string) {
	t.Helper()
	objs := []runtime.Object{j}
	for _, p := range pods {
		objs = append(objs, p)
	}
	client := fake.NewClientset(objs...)
	n := 0
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		n++
		p.Name = fmt.Sprintf("%snew%d", p.GenerateName, n) // as the API server completes generateName
		return false, nil, nil
	})
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Jobs: f.Batch().V1().Jobs(), Pods: f.Core().V1().Pods(),
		Recorder: record.NewFakeRecorder(20), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Batch().V1().Jobs().Informer().GetIndexer().Add(j)
	for _, p := range pods {
		_ = f.Core().V1().Pods().Informer().GetIndexer().Add(p)
	}
	if err := c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range client.Actions() {
		switch a := a.(type) {
		case k8stesting.CreateAction:
			if a.GetResource().Resource == "pods" {
				got = append(got, "create pod")
			}
		case k8stesting.PatchAction:
			got = append(got, "release "+a.GetName())
		}
	}
	slices.Sort(got) // finished pods are released in no set order
	out, err := client.BatchV1().Jobs("ns").Get(context.Background(), "pi", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := fmt.Sprintf("succeeded=%d active=%d", out.Status.Succeeded, out.Status.Active)
	for _, c := range out.Status.Conditions {
		status += " " + string(c.Type)
	}
	return got, status
}

// TestSyncAdoptsAndReleases: an orphan pod the selector matches is
// adopted (a patch, and no pod created for it); an owned pod whose
// labels no longer match is released (a patch) and not counted.
func TestSyncAdoptsAndReleases(t *testing.T) {
	j := testJob(4, 2, nil)
	pods := mkPods(j, "rr")
	pods[0].OwnerReferences = nil
	got, status := syncJob(t, j, pods)
	if !slices.Equal(got, []string{"release pi-0"}) || status != "succeeded=0 active=2" {
		t.Errorf("adopt: actions %q status %q", got, status)
	}
	pods = mkPods(j, "rr")
	pods[1].Labels = nil
	got, status = syncJob(t, j, pods)
	if !slices.Equal(got, []string{"create pod", "release pi-1"}) || status != "succeeded=0 active=1" {
		t.Errorf("release: actions %q status %q", got, status)
	}
}
