package deployment

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestCalculateStatus(t *testing.T) {
	d := deploy(3, "1", "0")
	newRS, old := rs("new", 0, 2, 1), rs("old", time.Hour, 2, 2)
	s := calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now)
	if s.Replicas != 4 || s.UpdatedReplicas != 2 || s.ReadyReplicas != 3 || s.AvailableReplicas != 3 || s.UnavailableReplicas != 1 || s.ObservedGeneration != 1 {
		t.Errorf("counts %+v", s)
	}
	if c := getCondition(s, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != ReasonMinimumAvailable || c.Message != "Deployment has minimum availability." {
		t.Errorf("available condition %+v", c)
	}
	newRS.Status.AvailableReplicas, old.Status.AvailableReplicas = 0, 1
	s = calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now)
	if c := getCondition(s, appsv1.DeploymentAvailable); c.Status != corev1.ConditionFalse || c.Reason != ReasonMinimumUnavailable {
		t.Errorf("unavailable condition %+v", c)
	}
}

func TestRolloutStatus(t *testing.T) {
	progressing := func(reason string, ago time.Duration) []appsv1.DeploymentCondition {
		return []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: reason,
			LastUpdateTime: metav1.NewTime(now.Add(-ago)), LastTransitionTime: metav1.NewTime(now.Add(-ago))}}
	}
	cases := []struct {
		name       string
		old, next  appsv1.DeploymentStatus
		wantReason string
		wantMsg    string
		wantAfter  time.Duration
	}{
		{"complete", appsv1.DeploymentStatus{Conditions: progressing(ReasonNewRSCreated, time.Second)},
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3},
			ReasonNewRSAvailable, `ReplicaSet "web-1" has successfully progressed.`, 0},
		{"progressing", appsv1.DeploymentStatus{Replicas: 3, Conditions: progressing(ReasonNewRSCreated, time.Second)},
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 1},
			ReasonRSUpdated, `ReplicaSet "web-1" is progressing.`, 10 * time.Minute},
		{"stuck", appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, Conditions: progressing(ReasonRSUpdated, time.Minute)},
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 1},
			ReasonRSUpdated, "", 9 * time.Minute},
		{"timed out", appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, Conditions: progressing(ReasonRSUpdated, 11*time.Minute)},
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 1},
			ReasonTimedOut, `ReplicaSet "web-1" has timed out progressing.`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deploy(3, "1", "0")
			d.Status = tc.old
			tc.next.Conditions = append(tc.next.Conditions, tc.old.Conditions...)
			got, after := rolloutStatus(d, tc.next, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-1"}}, now)
			c := getCondition(got, appsv1.DeploymentProgressing)
			if c == nil || c.Reason != tc.wantReason || (tc.wantMsg != "" && c.Message != tc.wantMsg) {
				t.Errorf("condition %+v", c)
			}
			if after != tc.wantAfter {
				t.Errorf("requeue after %v, want %v", after, tc.wantAfter)
			}
		})
	}
}

func TestSetNewRSAnnotations(t *testing.T) {
	cases := []struct {
		name         string
		had          map[string]string
		revision     int64
		exists       bool
		wantRevision string
		wantHistory  string
		wantDesired  string
	}{
		{"new", nil, 1, false, "1", "", "3"},
		{"rollback keeps history", map[string]string{RevisionAnnotation: "1"}, 3, true, "3", "1", ""},
		{"history appended", map[string]string{RevisionAnnotation: "3", RevisionHistoryAnnotation: "1"}, 5, true, "5", "1,3", ""},
		{"never lowered", map[string]string{RevisionAnnotation: "7"}, 5, true, "7", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deploy(3, "1", "0")
			d.Annotations = map[string]string{"team": "a", lastAppliedAnnotation: "{}", RevisionAnnotation: "9"}
			r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Annotations: tc.had}}
			setNewRSAnnotations(d, r, tc.revision, tc.exists)
			a := r.Annotations
			if a[RevisionAnnotation] != tc.wantRevision || a[RevisionHistoryAnnotation] != tc.wantHistory ||
				a[DesiredReplicasAnnotation] != tc.wantDesired || a["team"] != "a" || a[lastAppliedAnnotation] != "" {
				t.Errorf("annotations %v", a)
			}
		})
	}
}

func TestHistoryToDelete(t *testing.T) {
	withRev := func(r *appsv1.ReplicaSet, rev string) *appsv1.ReplicaSet {
		r.Annotations = map[string]string{RevisionAnnotation: rev}
		return r
	}
	d := deploy(3, "1", "0")
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	olds := []*appsv1.ReplicaSet{
		withRev(rs("r3", time.Hour, 0, 0), "3"), withRev(rs("r1", 3*time.Hour, 0, 0), "1"),
		withRev(rs("r2", 2*time.Hour, 1, 1), "2"),
	}
	got := historyToDelete(d, olds)
	if len(got) != 1 || got[0].Name != "r1" {
		t.Errorf("got %v", got)
	}
	d.Spec.RevisionHistoryLimit = nil
	if got := historyToDelete(d, olds); got != nil {
		t.Errorf("no limit: got %v", got)
	}
}

func TestNewReplicaSet(t *testing.T) {
	d := deploy(3, "1", "0")
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	r := newReplicaSet(d)
	hash := ComputeHash(&d.Spec.Template, nil)
	if r.Name != "web-"+hash || r.Labels[HashLabel] != hash || r.Spec.Selector.MatchLabels[HashLabel] != hash ||
		r.Spec.Template.Labels[HashLabel] != hash || d.Spec.Template.Labels[HashLabel] != "" {
		t.Errorf("replica set %+v", r.ObjectMeta)
	}
	if ref := r.OwnerReferences[0]; ref.Kind != "Deployment" || ref.UID != d.UID || !*ref.Controller {
		t.Errorf("owner %+v", ref)
	}
}
