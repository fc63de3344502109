package cgroups

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/svcplane/svcplane/internal/qos"
)

// res builds requirements from "cpu,memory" pairs; "" leaves a list out.
func res(reqCPU, reqMem, limCPU, limMem string) corev1.ResourceRequirements {
	list := func(cpu, mem string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return corev1.ResourceRequirements{Requests: list(reqCPU, reqMem), Limits: list(limCPU, limMem)}
}

func podOf(containers []corev1.Container, inits ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Containers: containers, InitContainers: inits}}
}

func ctr(name string, r corev1.ResourceRequirements) corev1.Container {
	return corev1.Container{Name: name, Resources: r}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		res  corev1.ResourceRequirements
		want Settings
	}{
		{"no limits", res("", "", "", ""), Settings{CPUShares: 2}},
		{"memory only", res("", "", "", "32Mi"), Settings{MemoryLimit: 32 << 20, CPUShares: 2}},
		{"cpu only", res("", "", "500m", ""), Settings{CPUQuota: 50000, CPUPeriod: 100000, CPUShares: 512}},
		{"requests only", res("250m", "64Mi", "", ""), Settings{CPUShares: 256}},
		{"guaranteed", res("2", "1Gi", "2", "1Gi"), Settings{MemoryLimit: 1 << 30, CPUQuota: 200000, CPUPeriod: 100000, CPUShares: 2048}},
		{"burstable", res("100m", "", "1", "128Mi"), Settings{MemoryLimit: 128 << 20, CPUQuota: 100000, CPUPeriod: 100000, CPUShares: 102}},
		{"quota at least 1ms", res("1m", "", "1m", ""), Settings{CPUQuota: 1000, CPUPeriod: 100000, CPUShares: 2}},
		{"shares capped", res("500", "", "", ""), Settings{CPUShares: MaxShares}},
	}
	for _, tc := range tests {
		c := ctr("c", tc.res)
		if got := Plan(podOf([]corev1.Container{c}), &c); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// The pods here are not defaulted: pod shares come from requests alone, as
// kubelet's (the API server copies limits into missing requests).
func TestPodPlan(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := ctr("side", res("100m", "", "100m", "16Mi"))
	sidecar.RestartPolicy = &always
	tests := []struct {
		name string
		pod  *corev1.Pod
		want Settings
	}{
		{"best effort", podOf([]corev1.Container{ctr("a", res("", "", "", ""))}),
			Settings{CPUShares: 2, PidsLimit: 4096}},
		{"memory only", podOf([]corev1.Container{ctr("a", res("", "", "", "32Mi"))}),
			Settings{MemoryLimit: 32 << 20, CPUShares: 2, PidsLimit: 4096}},
		{"requests only", podOf([]corev1.Container{ctr("a", res("300m", "1Gi", "", ""))}),
			Settings{CPUShares: 307, PidsLimit: 4096}},
		{"guaranteed, two containers summed",
			podOf([]corev1.Container{ctr("a", res("1", "1Gi", "1", "1Gi")), ctr("b", res("500m", "512Mi", "500m", "512Mi"))}),
			Settings{MemoryLimit: 3 << 29, CPUQuota: 150000, CPUPeriod: 100000, CPUShares: 1536, PidsLimit: 4096}},
		{"one container without limits: no pod limit",
			podOf([]corev1.Container{ctr("a", res("", "", "1", "1Gi")), ctr("b", res("100m", "", "", ""))}),
			Settings{CPUShares: 102, PidsLimit: 4096}},
		{"init container peak above the app containers",
			podOf([]corev1.Container{ctr("a", res("", "", "1", "64Mi"))}, ctr("init", res("", "", "2", "32Mi"))),
			Settings{MemoryLimit: 64 << 20, CPUQuota: 200000, CPUPeriod: 100000, CPUShares: 2, PidsLimit: 4096}},
		{"sidecar counted in the sum",
			podOf([]corev1.Container{ctr("a", res("", "", "1", "64Mi"))}, sidecar),
			Settings{MemoryLimit: 80 << 20, CPUQuota: 110000, CPUPeriod: 100000, CPUShares: 102, PidsLimit: 4096}},
	}
	for _, tc := range tests {
		if got := PodPlan(tc.pod, qos.Compute(&tc.pod.Spec), DefaultPidsLimit); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestOOMScoreAdj(t *testing.T) {
	const capacity = 8 << 30
	tests := []struct {
		name  string
		class corev1.PodQOSClass
		res   corev1.ResourceRequirements
		want  int
	}{
		{"guaranteed", corev1.PodQOSGuaranteed, res("1", "1Gi", "1", "1Gi"), -997},
		{"best effort", corev1.PodQOSBestEffort, res("", "", "", ""), 1000},
		{"burstable, an eighth of the node", corev1.PodQOSBurstable, res("", "1Gi", "", ""), 875},
		{"burstable, no memory request", corev1.PodQOSBurstable, res("100m", "", "", ""), 999},
		{"burstable, the whole node", corev1.PodQOSBurstable, res("", "8Gi", "", ""), 3},
	}
	for _, tc := range tests {
		c := ctr("c", tc.res)
		if got := OOMScoreAdj(tc.class, &c, capacity); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
