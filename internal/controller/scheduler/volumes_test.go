package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func localPV(name, host string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{host}}}}}}}}}
}

func TestScheduleWithVolumes(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	nodes := []NodeInfo{node("a", map[string]string{corev1.LabelHostname: "a"}), node("b", map[string]string{corev1.LabelHostname: "b"})}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	for _, tc := range []struct {
		name string
		vols PodVolumes
		want string
	}{
		{"bound volume on b", PodVolumes{Bound: []*corev1.PersistentVolume{localPV("v", "b")}}, "b"},
		{"bound volume nowhere", PodVolumes{Bound: []*corev1.PersistentVolume{localPV("v", "c")}},
			"0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."},
		{"provisioned anywhere", PodVolumes{Delayed: []DelayedClaim{{Claim: claim, Provisioning: true}}}, "a"},
		{"static volume on b", PodVolumes{Delayed: []DelayedClaim{{Claim: claim, Candidates: []*corev1.PersistentVolume{localPV("v", "b")}}}}, "b"},
		{"no volume", PodVolumes{Delayed: []DelayedClaim{{Claim: claim}}},
			"0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ScheduleWithVolumes(pod, nodes, tc.vols)
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
