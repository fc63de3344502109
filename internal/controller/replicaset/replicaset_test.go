package replicaset

import (
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// pod builds a test pod from a compact description.
type podSpec struct {
	name, node string
	phase      corev1.PodPhase
	readyAgo   time.Duration // 0: not ready
	age        time.Duration
	restarts   int32
	cost       string
}

func mkPod(s podSpec) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: "ns", UID: types.UID("uid-" + s.name),
			CreationTimestamp: metav1.NewTime(now.Add(-s.age)), Labels: map[string]string{"app": "x"}},
		Spec:   corev1.PodSpec{NodeName: s.node},
		Status: corev1.PodStatus{Phase: s.phase, ContainerStatuses: []corev1.ContainerStatus{{RestartCount: s.restarts}}},
	}
	if s.phase == "" {
		p.Status.Phase = corev1.PodRunning
	}
	if s.cost != "" {
		p.Annotations = map[string]string{DeletionCostAnnotation: s.cost}
	}
	if s.readyAgo > 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now.Add(-s.readyAgo))}}
	}
	return p
}

func names(pods []*corev1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

func TestPodsToDelete(t *testing.T) {
	cases := []struct {
		name string
		pods []podSpec
		n    int
		want string
	}{
		{"unscheduled first", []podSpec{{name: "a", node: "n1", readyAgo: time.Hour}, {name: "b", phase: corev1.PodPending}}, 1, "b"},
		{"pending before running", []podSpec{{name: "a", node: "n1"}, {name: "b", node: "n1", phase: corev1.PodPending}}, 1, "b"},
		{"not ready before ready", []podSpec{{name: "a", node: "n1", readyAgo: time.Hour}, {name: "b", node: "n2"}}, 1, "b"},
		{"lower deletion cost first", []podSpec{{name: "a", node: "n1", cost: "10"}, {name: "b", node: "n2", cost: "-5"}}, 1, "b"},
		{"doubled up first", []podSpec{{name: "a", node: "n1"}, {name: "b", node: "n2"}, {name: "c", node: "n2"}}, 1, "b"},
		{"ready for less time first", []podSpec{{name: "a", node: "n1", readyAgo: 8 * time.Hour}, {name: "b", node: "n2", readyAgo: time.Minute}}, 1, "b"},
		{"more restarts first", []podSpec{{name: "a", node: "n1", restarts: 1}, {name: "b", node: "n2", restarts: 5}}, 1, "b"},
		{"newer first", []podSpec{{name: "a", node: "n1", age: 10 * time.Hour}, {name: "b", node: "n2", age: time.Minute}}, 1, "b"},
		{"all when n covers them", []podSpec{{name: "a"}, {name: "b"}}, 3, "a,b"},
		{"several", []podSpec{{name: "a", node: "n1", readyAgo: time.Hour}, {name: "b"}, {name: "c", node: "n2"}}, 2, "b,c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pods []*corev1.Pod
			for _, s := range tc.pods {
				pods = append(pods, mkPod(s))
			}
			if got := names(PodsToDelete(pods, pods, tc.n, now)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCalculateStatus(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Generation: 4},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), MinReadySeconds: 60,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x", "tier": "web"}}}},
	}
	fully := mkPod(podSpec{name: "a", readyAgo: time.Hour})
	fully.Labels["tier"] = "web"
	pods := []*corev1.Pod{fully, mkPod(podSpec{name: "b", readyAgo: time.Second}), mkPod(podSpec{name: "c"})}
	cases := []struct {
		name      string
		manageErr error
		want      appsv1.ReplicaSetStatus
		reason    string
	}{
		{"counts", nil, appsv1.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4}, ""},
		{"failure", errors.New("quota"), appsv1.ReplicaSetStatus{Replicas: 2, FullyLabeledReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4}, "FailedCreate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := pods
			if tc.manageErr != nil {
				in = pods[:2]
			}
			got := CalculateStatus(rs, in, tc.manageErr, now)
			conds := got.Conditions
			got.Conditions = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if reason := condReason(conds); reason != tc.reason {
				t.Errorf("condition reason %q, want %q", reason, tc.reason)
			}
		})
	}
}

func condReason(conds []appsv1.ReplicaSetCondition) string {
	for _, c := range conds {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			return c.Reason
		}
	}
	return ""
}

func TestDecideClaim(t *testing.T) {
	owner := Owner{UID: "rs", Namespace: "ns"}
	owned := []metav1.OwnerReference{{UID: "rs", Controller: ptr.To(true)}}
	other := []metav1.OwnerReference{{UID: "other", Controller: ptr.To(true)}}
	deleting := metav1.NewTime(now)
	cases := []struct {
		name    string
		refs    []metav1.OwnerReference
		matches bool
		owner   Owner
		deleted *metav1.Time
		ns      string
		want    Claim
	}{
		{"owned and matching", owned, true, owner, nil, "ns", ClaimOwned},
		{"owned, not matching", owned, false, owner, nil, "ns", ClaimRelease},
		{"owned, owner deleting", owned, false, Owner{UID: "rs", Namespace: "ns", Deleting: true}, nil, "ns", ClaimIgnore},
		{"someone else's", other, true, owner, nil, "ns", ClaimIgnore},
		{"orphan matching", nil, true, owner, nil, "ns", ClaimAdopt},
		{"orphan not matching", nil, false, owner, nil, "ns", ClaimIgnore},
		{"orphan being deleted", nil, true, owner, &deleting, "ns", ClaimIgnore},
		{"orphan elsewhere", nil, true, owner, nil, "other", ClaimIgnore},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tc.ns, OwnerReferences: tc.refs, DeletionTimestamp: tc.deleted}}
			if got := DecideClaim(tc.owner, obj, tc.matches); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPatches(t *testing.T) {
	ref := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "rs", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	adopt := `{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web","uid":"rs","controller":true,"blockOwnerDeletion":true}],"uid":"p"}}`
	if got := string(AdoptPatch(ref, "p")); got != adopt {
		t.Errorf("adopt patch %s", got)
	}
	release := `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"rs"}],"uid":"p"}}`
	if got := string(ReleasePatch("rs", "p")); got != release {
		t.Errorf("release patch %s", got)
	}
}

func TestExpectations(t *testing.T) {
	clock := now
	e := NewExpectations(func() time.Time { return clock })
	steps := []struct {
		do   func()
		want bool
	}{
		{func() {}, true},
		{func() { e.ExpectCreations("k", 2) }, false},
		{func() { e.CreationObserved("k") }, false},
		{func() { e.CreationObserved("k") }, true},
		{func() { e.ExpectDeletions("k", []string{"ns/a"}) }, false},
		{func() { e.DeletionObserved("k", "ns/b") }, false},
		{func() { e.DeletionObserved("k", "ns/a") }, true},
		{func() { e.ExpectCreations("k", 1) }, false},
		{func() { clock = clock.Add(expectationsTTL + time.Second) }, true},
		{func() { e.Forget("k") }, true},
	}
	for i, s := range steps {
		s.do()
		if got := e.Satisfied("k"); got != s.want {
			t.Fatalf("step %d: satisfied %v, want %v", i, got, s.want)
		}
	}
}

func TestSlowStartBatch(t *testing.T) {
	cases := []struct {
		name      string
		count     int
		failAt    int32 // call number that fails; 0: none
		wantDone  int
		wantCalls int32
	}{
		{"all succeed", 10, 0, 10, 10},
		{"failure stops after its batch", 10, 2, 2, 3},
		{"none", 0, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			done, err := SlowStartBatch(tc.count, 1, func() error {
				if calls.Add(1) == tc.failAt {
					return errors.New("boom")
				}
				return nil
			})
			if done != tc.wantDone || calls.Load() != tc.wantCalls || (err != nil) != (tc.failAt != 0) {
				t.Errorf("done %d calls %d err %v", done, calls.Load(), err)
			}
		})
	}
}

func TestPodFromTemplate(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f8", Namespace: "ns", UID: "rs"},
		Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
		}},
	}
	pod, err := PodFromTemplate(rs)
	if err != nil {
		t.Fatal(err)
	}
	ref := pod.OwnerReferences[0]
	if pod.GenerateName != "web-5d4f8-" || pod.Labels["app"] != "web" || pod.Annotations["a"] != "b" ||
		ref.Kind != "ReplicaSet" || !*ref.Controller || !*ref.BlockOwnerDeletion || ref.UID != "rs" {
		t.Errorf("unexpected pod %+v", pod.ObjectMeta)
	}
	rs.Spec.Template.Labels = nil
	if _, err := PodFromTemplate(rs); err == nil {
		t.Error("pod without labels accepted")
	}
}
