package replicaset

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

func TestFromRC(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "web", "tier": "x"}}}
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rc"},
		Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](2), MinReadySeconds: 5,
			Selector: map[string]string{"name": "web"}, Template: tpl},
		Status: corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1, ObservedGeneration: 3,
			Conditions: []corev1.ReplicationControllerCondition{{Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate"}}},
	}
	rs := FromRC(rc)
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{"equal", map[string]string{"name": "web"}, true},
		{"superset", map[string]string{"name": "web", "x": "y"}, true},
		{"other value", map[string]string{"name": "db"}, false},
		{"missing", map[string]string{"x": "y"}, false},
	}
	for _, tc := range cases {
		if got := sel.Matches(labels.Set(tc.labels)); got != tc.want {
			t.Errorf("%s: matches %v, want %v", tc.name, got, tc.want)
		}
	}
	if *rs.Spec.Replicas != 2 || rs.Spec.MinReadySeconds != 5 || rs.Spec.Template.Labels["tier"] != "x" || rs.UID != "rc" {
		t.Errorf("converted spec %+v", rs.Spec)
	}
	if back := ToRCStatus(rs.Status); !reflect.DeepEqual(back, rc.Status) {
		t.Errorf("status round trip:\n got %+v\nwant %+v", back, rc.Status)
	}
	if empty := FromRC(&corev1.ReplicationController{}); len(empty.Spec.Template.Labels) != 0 {
		t.Errorf("nil template converted to %+v", empty.Spec.Template)
	}
	pod, err := podFromTemplate(rs, ReplicationControllers(nil, nil).GVK())
	if err != nil {
		t.Fatal(err)
	}
	if ref := pod.OwnerReferences[0]; ref.APIVersion != "v1" || ref.Kind != "ReplicationController" || ref.UID != "rc" || pod.GenerateName != "web-" {
		t.Errorf("pod owner %+v, generateName %q", ref, pod.GenerateName)
	}
}
