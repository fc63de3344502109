package deployment

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// deploy is a rolling Deployment of n replicas with surge/unavailable
// given as strings ("25%", "1").
func deploy(n int32, surge, unavailable string) *appsv1.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "d", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(n),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}},
			ProgressDeadlineSeconds: ptr.To[int32](600),
			RevisionHistoryLimit:    ptr.To[int32](10),
		},
	}
}

// rs is a ReplicaSet "name" created age ago with spec replicas and
// available replicas (status replicas = spec).
func rs(name string, age time.Duration, spec, available int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name), CreationTimestamp: metav1.NewTime(now.Add(-age))},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(spec)},
		Status:     appsv1.ReplicaSetStatus{Replicas: spec, ReadyReplicas: available, AvailableReplicas: available},
	}
}

func actionsString(actions []scaleAction) string {
	var out []string
	for _, a := range actions {
		out = append(out, fmt.Sprintf("%s=%d", a.rs.Name, a.to))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestResolveFenceposts(t *testing.T) {
	cases := []struct {
		surge, unavailable string
		desired            int32
		wantS, wantU       int32
	}{
		{"25%", "25%", 10, 3, 2},
		{"25%", "25%", 3, 1, 0},
		{"0", "0", 3, 0, 1},
		{"0%", "10%", 5, 0, 1},
		{"1", "0", 3, 1, 0},
		{"100%", "100%", 4, 4, 4},
	}
	for _, tc := range cases {
		s, u := intstr.Parse(tc.surge), intstr.Parse(tc.unavailable)
		gotS, gotU := ResolveFenceposts(&s, &u, tc.desired)
		if gotS != tc.wantS || gotU != tc.wantU {
			t.Errorf("%s/%s of %d: got %d/%d, want %d/%d", tc.surge, tc.unavailable, tc.desired, gotS, gotU, tc.wantS, tc.wantU)
		}
	}
}

func TestPlanNewRS(t *testing.T) {
	cases := []struct {
		name   string
		d      *appsv1.Deployment
		newRS  *appsv1.ReplicaSet
		olds   []*appsv1.ReplicaSet
		want   int32
		wantOK bool
	}{
		{"first rollout", deploy(3, "25%", "25%"), rs("new", 0, 0, 0), nil, 3, true},
		{"surge of one", deploy(3, "25%", "25%"), rs("new", 0, 0, 0), []*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3)}, 1, true},
		{"no room", deploy(3, "1", "0"), rs("new", 0, 1, 0), []*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3)}, 1, false},
		{"room after scale down", deploy(3, "1", "0"), rs("new", 0, 1, 1), []*appsv1.ReplicaSet{rs("old", time.Hour, 2, 2)}, 2, true},
		{"over desired", deploy(3, "1", "0"), rs("new", 0, 5, 5), nil, 3, true},
		{"done", deploy(3, "1", "0"), rs("new", 0, 3, 3), nil, 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := append(append([]*appsv1.ReplicaSet(nil), tc.olds...), tc.newRS)
			got, ok := planNewRS(tc.d, all, tc.newRS)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %d %v, want %d %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestPlanOldScaleDown(t *testing.T) {
	cases := []struct {
		name  string
		d     *appsv1.Deployment
		newRS *appsv1.ReplicaSet
		olds  []*appsv1.ReplicaSet
		want  string
	}{
		{"new not available yet, max unavailable 0", deploy(3, "1", "0"), rs("new", 0, 1, 0),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3)}, ""},
		{"new available frees one", deploy(3, "1", "0"), rs("new", 0, 1, 1),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3)}, "old=2"},
		{"max unavailable allows two", deploy(4, "0", "2"), rs("new", 0, 0, 0),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 4, 4)}, "old=2"},
		{"unhealthy cleaned first", deploy(3, "1", "0"), rs("new", 0, 1, 1),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 3, 1)}, "old=2"},
		{"oldest first", deploy(4, "0", "1"), rs("new", 0, 0, 0),
			[]*appsv1.ReplicaSet{rs("b", time.Hour, 2, 2), rs("a", 2*time.Hour, 2, 2)}, "a=1"},
		{"no old pods", deploy(3, "1", "0"), rs("new", 0, 3, 3), []*appsv1.ReplicaSet{rs("old", time.Hour, 0, 0)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := actionsString(planOldScaleDown(tc.d, tc.newRS, tc.olds)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func withMax(r *appsv1.ReplicaSet, desired, maxReplicas int32) *appsv1.ReplicaSet {
	setReplicasAnnotations(r, desired, maxReplicas)
	return r
}

func TestPlanScale(t *testing.T) {
	cases := []struct {
		name  string
		d     *appsv1.Deployment
		newRS *appsv1.ReplicaSet
		olds  []*appsv1.ReplicaSet
		want  string
	}{
		{"only active one takes all", deploy(5, "25%", "25%"), withMax(rs("new", 0, 3, 3), 3, 4), nil, "new=5"},
		{"latest when none active", deploy(2, "25%", "25%"), rs("new", 0, 0, 0), []*appsv1.ReplicaSet{rs("old", time.Hour, 0, 0)}, "new=2"},
		{"unchanged", deploy(3, "25%", "25%"), rs("new", 0, 3, 3), nil, ""},
		{"saturated new scales old to zero", deploy(3, "1", "0"), withMax(rs("new", 0, 3, 3), 3, 4),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 1, 1)}, "old=0"},
		{"proportional up", deploy(20, "2", "0"), withMax(rs("new", 0, 4, 0), 10, 12),
			[]*appsv1.ReplicaSet{withMax(rs("old", time.Hour, 8, 8), 10, 12)}, "new=7 old=15"},
		{"proportional down", deploy(5, "1", "0"), withMax(rs("new", 0, 4, 0), 10, 11),
			[]*appsv1.ReplicaSet{withMax(rs("old", time.Hour, 7, 7), 10, 11)}, "new=2 old=4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := actionsString(planScale(tc.d, tc.newRS, tc.olds)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsScalingEvent(t *testing.T) {
	d := deploy(5, "1", "0")
	if !isScalingEvent(d, withMax(rs("new", 0, 3, 3), 3, 4), nil) {
		t.Error("replicas 3 -> 5 not seen as scaling")
	}
	if isScalingEvent(d, withMax(rs("new", 0, 5, 3), 5, 6), nil) {
		t.Error("steady deployment seen as scaling")
	}
	if isScalingEvent(d, rs("new", 0, 3, 3), nil) {
		t.Error("ReplicaSet without annotations seen as scaling")
	}
}

func TestHash(t *testing.T) {
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "nginx"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.25"}}},
	}
	h := ComputeHash(&template, nil)
	if len(h) < 8 || len(h) > 10 || strings.ContainsAny(h, "aeiou013") {
		t.Errorf("hash %q is not a safe-encoded 32-bit number", h)
	}
	if ComputeHash(&template, nil) != h {
		t.Error("hash not stable")
	}
	if ComputeHash(&template, ptr.To[int32](1)) == h {
		t.Error("collision count ignored")
	}
	other := template.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:1.26"
	if ComputeHash(other, nil) == h {
		t.Error("image change ignored")
	}
	labeled := template.DeepCopy()
	labeled.Labels[HashLabel] = h
	if !EqualIgnoreHash(labeled, &template) || EqualIgnoreHash(other, &template) {
		t.Error("EqualIgnoreHash")
	}
}
