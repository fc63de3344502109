package qos

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestCompute(t *testing.T) {
	res := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{}
		if req != "" {
			r.Requests = corev1.ResourceList{"cpu": resource.MustParse(req), "memory": resource.MustParse(req + "Mi")}
		}
		if lim != "" {
			r.Limits = corev1.ResourceList{"cpu": resource.MustParse(lim), "memory": resource.MustParse(lim + "Mi")}
		}
		return r
	}
	tests := []struct {
		name string
		res  corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"nothing", res("", ""), corev1.PodQOSBestEffort},
		{"requests only", res("1", ""), corev1.PodQOSBurstable},
		{"requests below limits", res("1", "2"), corev1.PodQOSBurstable},
		{"requests equal limits", res("2", "2"), corev1.PodQOSGuaranteed},
	}
	for _, tc := range tests {
		spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: tc.res}}}
		if got := Compute(spec); got != tc.want {
			t.Errorf("%s: QoS %s, want %s", tc.name, got, tc.want)
		}
	}
}
