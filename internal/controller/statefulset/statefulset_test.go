package statefulset

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	ssregistry "github.com/svcplane/svcplane/internal/apiserver/registry/statefulset"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func testSet(replicas int32, mutate func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "set-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: "nginx",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
	ssregistry.Default(s)
	if mutate != nil {
		mutate(s)
	}
	return s
}

// state: "r" running and ready, "u" running and not ready, "p" pending, "t" terminating, "f" failed;
// rev is the revision label.
func mkPod(set *appsv1.StatefulSet, ordinal int, state, rev string) *corev1.Pod {
	p := NewPod(set, &set.Spec.Template, ordinal, rev)
	p.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour))
	switch state {
	case "r":
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))}}
	case "u":
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	case "p":
		p.Status.Phase = corev1.PodPending
	case "t":
		p.Status.Phase = corev1.PodRunning
		ts := metav1.NewTime(now)
		p.DeletionTimestamp = &ts
	case "f":
		p.Status.Phase = corev1.PodFailed
	}
	return p
}

func describe(actions []Action) string {
	var out []string
	for _, a := range actions {
		if a.Delete != nil {
			out = append(out, "delete "+a.Delete.Name)
		} else {
			out = append(out, fmt.Sprintf("create %d@%s", a.Ordinal, a.Revision))
		}
	}
	return strings.Join(out, ", ")
}

func TestPlan(t *testing.T) {
	parallel := func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }
	partition := func(n int32) func(*appsv1.StatefulSet) {
		return func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = &n }
	}
	onDelete := func(s *appsv1.StatefulSet) {
		s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	}
	type pod struct {
		ordinal    int
		state, rev string
	}
	cases := []struct {
		name     string
		replicas int32
		mutate   func(*appsv1.StatefulSet)
		pods     []pod
		want     string
	}{
		{"first pod", 3, nil, nil, "create 0@new"},
		{"next only after the previous is ready", 3, nil, []pod{{0, "p", "new"}}, ""},
		{"then the next", 3, nil, []pod{{0, "r", "new"}}, "create 1@new"},
		{"parallel: all at once", 3, parallel, nil, "create 0@new, create 1@new, create 2@new"},
		{"failed pod is replaced", 2, nil, []pod{{0, "f", "new"}, {1, "r", "new"}}, "delete web-0"},
		{"scale down from the highest", 1, nil, []pod{{0, "r", "new"}, {1, "r", "new"}, {2, "r", "new"}}, "delete web-2"},
		{"scale down waits for termination", 1, nil, []pod{{0, "r", "new"}, {1, "r", "new"}, {2, "t", "new"}}, ""},
		{"scale down halts at an unhealthy pod", 0, nil, []pod{{0, "u", "new"}, {1, "u", "new"}, {2, "u", "new"}}, ""},
		{"scale down takes the first unhealthy pod", 1, nil, []pod{{0, "r", "new"}, {1, "r", "new"}, {2, "u", "new"}}, "delete web-2"},
		{"parallel scale down", 1, parallel, []pod{{0, "r", "new"}, {1, "r", "new"}, {2, "r", "new"}}, "delete web-2, delete web-1"},
		{"rolling update from the highest", 3, nil, []pod{{0, "r", "old"}, {1, "r", "old"}, {2, "r", "old"}}, "delete web-2"},
		{"rolling update waits for the updated pod", 3, nil, []pod{{0, "r", "old"}, {1, "r", "old"}, {2, "p", "new"}}, ""},
		{"rolling update continues", 3, nil, []pod{{0, "r", "old"}, {1, "r", "old"}, {2, "r", "new"}}, "delete web-1"},
		{"partition stops the update", 3, partition(2), []pod{{0, "r", "old"}, {1, "r", "old"}, {2, "r", "new"}}, ""},
		{"below the partition new pods are old", 3, partition(2), []pod{{0, "r", "old"}}, "create 1@old"},
		{"OnDelete leaves old pods", 3, onDelete, []pod{{0, "r", "old"}, {1, "r", "old"}, {2, "r", "old"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := testSet(tc.replicas, tc.mutate)
			var pods []*corev1.Pod
			for _, p := range tc.pods {
				pods = append(pods, mkPod(set, p.ordinal, p.state, p.rev))
			}
			got := describe(Plan(set, pods, Revisions{Current: "old", Update: "new"}, now))
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewPod(t *testing.T) {
	set := testSet(3, func(s *appsv1.StatefulSet) {
		s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "www"}}}
	})
	p := NewPod(set, &set.Spec.Template, 1, "web-abc")
	if p.Name != "web-1" || p.Spec.Hostname != "web-1" || p.Spec.Subdomain != "nginx" {
		t.Errorf("identity: %s %s.%s", p.Name, p.Spec.Hostname, p.Spec.Subdomain)
	}
	if p.Labels[PodNameLabel] != "web-1" || p.Labels[PodIndexLabel] != "1" || p.Labels[RevisionLabel] != "web-abc" {
		t.Errorf("labels: %v", p.Labels)
	}
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "www-web-1" {
		t.Errorf("volumes: %+v", p.Spec.Volumes)
	}
	if c := NewClaim(set, &set.Spec.VolumeClaimTemplates[0], 1); c.Name != "www-web-1" || c.Labels["app"] != "web" {
		t.Errorf("claim: %s %v", c.Name, c.Labels)
	}
}

func TestCalculateStatus(t *testing.T) {
	set := testSet(3, nil)
	pods := []*corev1.Pod{mkPod(set, 0, "r", "new"), mkPod(set, 1, "r", "new"), mkPod(set, 2, "r", "new")}
	s := CalculateStatus(set, pods, Revisions{Current: "old", Update: "new"}, now)
	if s.Replicas != 3 || s.ReadyReplicas != 3 || s.UpdatedReplicas != 3 || s.CurrentRevision != "new" || s.CurrentReplicas != 3 {
		t.Errorf("complete update: %+v", s)
	}
	pods[0] = mkPod(set, 0, "r", "old")
	s = CalculateStatus(set, pods, Revisions{Current: "old", Update: "new"}, now)
	if s.UpdatedReplicas != 2 || s.CurrentReplicas != 1 || s.CurrentRevision != "old" || s.UpdateRevision != "new" {
		t.Errorf("mid update: %+v", s)
	}
}

// TestSync runs syncs over a fake clientset: the first creates the
// revision and web-0 only.
func TestSync(t *testing.T) {
	set := testSet(3, nil)
	client := fake.NewClientset(set)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, StatefulSets: f.Apps().V1().StatefulSets(), Revisions: f.Apps().V1().ControllerRevisions(),
		Pods: f.Core().V1().Pods(), Recorder: record.NewFakeRecorder(10), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Apps().V1().StatefulSets().Informer().GetIndexer().Add(set)
	if err := c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range client.Actions() {
		if ca, ok := a.(k8stesting.CreateAction); ok && a.GetVerb() == "create" {
			o := ca.GetObject().(metav1.Object)
			got = append(got, ca.GetResource().Resource+"/"+strings.TrimPrefix(o.GetName(), "web-"))
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "controllerrevisions/") || got[1] != "pods/0" {
		t.Errorf("created %v", got)
	}
	pod, err := client.CoreV1().Pods("ns").Get(context.Background(), "web-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rev := pod.Labels[RevisionLabel]; !slices.Contains([]string{"web-" + strings.TrimPrefix(got[0], "controllerrevisions/")}, rev) {
		t.Errorf("pod revision %q, revision created %s", rev, got[0])
	}
}
