package cgroups

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Kubelet's constants (pkg/kubelet/cm/helpers_linux.go).
const (
	// CPUPeriod is the CFS period kubelet sets, in microseconds.
	CPUPeriod = 100000
	// minQuota is the smallest CFS quota kubelet writes (1ms).
	minQuota = 1000
	// MinShares and MaxShares bound cpu.shares.
	MinShares    = 2
	MaxShares    = 262144
	sharesPerCPU = 1024
	// DefaultPidsLimit is the pod pids limit when Config.PidsLimit is 0.
	DefaultPidsLimit = 4096
)

// Settings are the limits written to one cgroup. A zero field means
// "no limit" (or, for CPUShares, the kernel's default).
type Settings struct {
	// MemoryLimit is memory.limit_in_bytes (v1) or memory.max (v2), bytes.
	MemoryLimit int64
	// CPUQuota and CPUPeriod are the CFS bandwidth in microseconds:
	// cpu.cfs_quota_us/cpu.cfs_period_us (v1) or cpu.max (v2).
	CPUQuota  int64
	CPUPeriod int64
	// CPUShares is cpu.shares (v1); v2 writes cpu.weight converted as runc does.
	CPUShares uint64
	// PidsLimit is pids.max.
	PidsLimit int64
}

// Plan returns the settings of container c of pod as kubelet computes them
// for its runtime: memory limit from limits.memory, CFS quota from
// limits.cpu, shares from requests.cpu (limits.cpu without a request).
// The pids limit is pod-level only, as kubelet's; pod is unused today
// (kubelet's container settings depend on the container alone).
func Plan(pod *corev1.Pod, c *corev1.Container) Settings {
	limits, requests := c.Resources.Limits, c.Resources.Requests
	s := Settings{MemoryLimit: limits.Memory().Value()}
	cpuLimit := limits.Cpu().MilliValue()
	if cpuLimit > 0 {
		s.CPUQuota, s.CPUPeriod = MilliCPUToQuota(cpuLimit, CPUPeriod), CPUPeriod
	}
	cpuRequest := requests.Cpu().MilliValue()
	if cpuRequest == 0 && cpuLimit > 0 {
		cpuRequest = cpuLimit
	}
	s.CPUShares = MilliCPUToShares(cpuRequest)
	return s
}

// PodPlan returns the settings of the pod-level cgroup as kubelet's
// ResourceConfigForPod: shares from the pod's cpu requests; a CFS quota
// and a memory limit only when every container (and sidecar) declares that
// limit, then the pod's effective limit (init containers counted as their
// peak); a BestEffort pod gets the minimum shares. pidsLimit is the node's
// pod pids limit (<= 0 for none).
func PodPlan(pod *corev1.Pod, qos corev1.PodQOSClass, pidsLimit int64) Settings {
	s := Settings{CPUShares: MinShares, PidsLimit: max(pidsLimit, 0)}
	if qos == corev1.PodQOSBestEffort {
		return s
	}
	requests, limits := podTotals(pod, false), podTotals(pod, true)
	s.CPUShares = MilliCPUToShares(requests.cpu.MilliValue())
	if declared(pod, corev1.ResourceCPU) {
		s.CPUQuota, s.CPUPeriod = MilliCPUToQuota(limits.cpu.MilliValue(), CPUPeriod), CPUPeriod
	}
	if declared(pod, corev1.ResourceMemory) {
		s.MemoryLimit = limits.memory.Value()
	}
	return s
}

// MilliCPUToQuota is kubelet's conversion of a cpu limit to a CFS quota:
// 0 for no limit, at least 1ms.
func MilliCPUToQuota(milliCPU, period int64) int64 {
	if milliCPU <= 0 {
		return 0
	}
	return max(milliCPU*period/1000, minQuota)
}

// MilliCPUToShares is kubelet's conversion of a cpu request to cpu.shares.
func MilliCPUToShares(milliCPU int64) uint64 {
	shares := milliCPU * sharesPerCPU / 1000
	return uint64(min(max(shares, MinShares), MaxShares))
}

// declared reports whether every container running beside the others (app
// containers and sidecars) limits name.
func declared(pod *corev1.Pod, name corev1.ResourceName) bool {
	for _, c := range pod.Spec.Containers {
		if q := c.Resources.Limits[name]; q.IsZero() {
			return false
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if q := c.Resources.Limits[name]; isSidecar(&c) && q.IsZero() {
			return false
		}
	}
	return true
}

type totals struct{ cpu, memory resource.Quantity }

// podTotals is the pod's effective requests (or limits) as upstream's
// PodRequests/PodLimits: the sum of app containers and sidecars, or the
// peak of an init container with the sidecars started before it, whichever
// is larger, plus the pod overhead.
func podTotals(pod *corev1.Pod, limits bool) totals {
	list := func(c *corev1.Container) corev1.ResourceList {
		if limits {
			return c.Resources.Limits
		}
		return c.Resources.Requests
	}
	var sum, sidecars, peak totals
	for i := range pod.Spec.Containers {
		sum.add(list(&pod.Spec.Containers[i]))
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if isSidecar(c) {
			sidecars.add(list(c))
			sum.add(list(c))
			continue
		}
		step := sidecars.copy()
		step.add(list(c))
		peak.max(step)
	}
	sum.max(peak)
	sum.add(pod.Spec.Overhead)
	return sum
}

func (t *totals) add(l corev1.ResourceList) {
	t.cpu.Add(*l.Cpu())
	t.memory.Add(*l.Memory())
}

func (t totals) copy() totals {
	return totals{t.cpu.DeepCopy(), t.memory.DeepCopy()}
}

func (t *totals) max(o totals) {
	if o.cpu.Cmp(t.cpu) > 0 {
		t.cpu = o.cpu.DeepCopy()
	}
	if o.memory.Cmp(t.memory) > 0 {
		t.memory = o.memory.DeepCopy()
	}
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// OOMScoreAdj is kubelet's oom_score_adj for a container's processes
// (pkg/kubelet/qos/policy.go): Guaranteed -997, BestEffort 1000, Burstable
// from 3 to 999 by the share of the node's memory it requests, so that the
// kernel kills pods, the most over their request first, before the agent
// (0). Lowering a score below the current one needs CAP_SYS_RESOURCE: the
// init can always raise it, so a Guaranteed container without the
// capability keeps the agent's score.
func OOMScoreAdj(class corev1.PodQOSClass, c *corev1.Container, memoryCapacity int64) int {
	switch class {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return besteffortOOMScoreAdj
	}
	if memoryCapacity <= 0 {
		return besteffortOOMScoreAdj - 1
	}
	adj := 1000 - 1000*c.Resources.Requests.Memory().Value()/memoryCapacity
	return int(min(max(adj, 1000+guaranteedOOMScoreAdj), besteffortOOMScoreAdj-1))
}

const (
	guaranteedOOMScoreAdj = -997
	besteffortOOMScoreAdj = 1000
)
