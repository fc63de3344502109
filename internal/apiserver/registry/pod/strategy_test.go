package pod

import (
	"context"
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

func TestPrepareForCreate(t *testing.T) {
	pod := validPod()
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"}
	PrepareForCreate(context.Background(), pod)
	want := corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
	if pod.Generation != 1 || !equalStatus(pod.Status, want) {
		t.Errorf("generation %d, status %+v; want 1, %+v", pod.Generation, pod.Status, want)
	}
}

func TestPrepareForCreateGated(t *testing.T) {
	pod := validPod()
	pod.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota"}}
	PrepareForCreate(context.Background(), pod)
	if c := pod.Status.Conditions; len(c) != 1 || c[0].Type != corev1.PodScheduled || c[0].Reason != "SchedulingGated" {
		t.Errorf("conditions %+v", c)
	}
}

func equalStatus(a, b corev1.PodStatus) bool {
	return a.Phase == b.Phase && a.QOSClass == b.QOSClass && a.PodIP == b.PodIP
}

func TestPrepareForUpdate(t *testing.T) {
	old := validPod()
	old.Generation = 3
	old.Status.Phase = corev1.PodRunning

	same := old.DeepCopy()
	same.Status.Phase = corev1.PodFailed
	same.Labels = map[string]string{"a": "b"}
	PrepareForUpdate(context.Background(), same, old)
	if same.Status.Phase != corev1.PodRunning || same.Generation != 3 {
		t.Errorf("metadata-only update: phase %s generation %d, want Running 3", same.Status.Phase, same.Generation)
	}

	changed := old.DeepCopy()
	changed.Spec.Containers[0].Image = "nginx:1.28"
	PrepareForUpdate(context.Background(), changed, old)
	if changed.Generation != 4 {
		t.Errorf("spec update: generation %d, want 4", changed.Generation)
	}
}

func TestPrepareForStatusUpdate(t *testing.T) {
	old := validPod()
	old.Spec.NodeName = "node-a"
	old.OwnerReferences = []metav1.OwnerReference{{Name: "rs"}}
	old.Status = corev1.PodStatus{QOSClass: corev1.PodQOSBurstable, ObservedGeneration: 2,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, ObservedGeneration: 2}}}
	pod := old.DeepCopy()
	pod.Spec.NodeName = "node-b"
	pod.OwnerReferences = nil
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady}}}
	PrepareForStatusUpdate(context.Background(), pod, old)
	s := pod.Status
	if pod.Spec.NodeName != "node-a" || len(pod.OwnerReferences) != 1 || s.QOSClass != corev1.PodQOSBurstable ||
		s.ObservedGeneration != 2 || s.Conditions[0].ObservedGeneration != 2 || s.Phase != corev1.PodRunning {
		t.Errorf("status update kept wrong fields: spec.nodeName %q, status %+v", pod.Spec.NodeName, s)
	}
}

func TestFieldSet(t *testing.T) {
	pod := validPod()
	pod.Spec.NodeName = "node-a"
	pod.Spec.ServiceAccountName = "default"
	pod.Spec.HostNetwork = true
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.5",
		PodIPs: []corev1.PodIP{{IP: "10.244.0.5"}}, NominatedNodeName: "node-b"}
	want := fields.Set{
		"metadata.name": "web", "metadata.namespace": "default",
		"spec.nodeName": "node-a", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
		"spec.serviceAccountName": "default", "spec.hostNetwork": "true",
		"status.phase": "Running", "status.podIP": "10.244.0.5", "status.podIPs": "", "status.nominatedNodeName": "node-b",
	}
	if got := FieldSet(pod); !maps.Equal(got, want) {
		t.Errorf("FieldSet:\n got %v\nwant %v", got, want)
	}
}

func TestWarnings(t *testing.T) {
	pod := validPod()
	pod.Name = "web.example"
	got := Warnings(context.Background(), pod, nil)
	want := "metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]"
	if len(got) != 1 || got[0] != want {
		t.Errorf("warnings %q, want [%q]", got, want)
	}
	if got := Warnings(context.Background(), pod, pod); got != nil {
		t.Errorf("update warnings %q, want none", got)
	}
}

func TestStrategy(t *testing.T) {
	s := Strategy()
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	s.Default(pod)
	s.PrepareForCreate(context.Background(), pod)
	if errs := s.Validate(context.Background(), pod); len(errs) != 0 {
		t.Errorf("defaulted pod invalid: %v", errs)
	}
	if got := s.FieldSet(pod)["status.phase"]; got != "Pending" {
		t.Errorf("status.phase = %q, want Pending", got)
	}
}
