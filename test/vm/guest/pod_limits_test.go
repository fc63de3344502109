package guest

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodLimitsCgroupV2 runs pods with limits on the guest's cgroup v2
// (this machine's CI host has v1 only): a container's memory and CPU
// limits are its cgroup's memory.max and cpu.max, the pod's pids.max is
// 4096, and a container past its memory limit is OOM-killed, reported as
// OOMKilled with exit code 137 and restarted. It runs with
// SVCPLANE_VM_LIMITS=1 on the host (passed into the guest).
func TestPodLimitsCgroupV2(t *testing.T) {
	if os.Getenv("SVCPLANE_VM_LIMITS") != "1" {
		t.Skip("starts a second node (minutes under emulation): run with SVCPLANE_VM_LIMITS=1")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		t.Skipf("no cgroup v2 here: %v", err)
	}
	n := startNode(t)
	limits := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	steady := n.limitedPod(t, "limits", limits, "sleep 3600")
	oomLimits := corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}
	n.limitedPod(t, "oom", oomLimits, "head -c 300000000 /dev/zero | tail")

	var pod *corev1.Pod
	poll(t, 4*time.Minute, "pod limits Running", func(ctx context.Context) (bool, error) {
		p, err := n.client.CoreV1().Pods(testNamespace).Get(ctx, steady, metav1.GetOptions{})
		pod = p
		return err == nil && p.Status.Phase == corev1.PodRunning, nil
	})
	if pod.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("qosClass %q, want Guaranteed", pod.Status.QOSClass)
	}
	dir := podCgroup(t, string(pod.UID))
	t.Logf("pod cgroup %s", dir)
	if got := cgroupValues(t, dir, "pids.max"); !strings.Contains(got, "4096") {
		t.Errorf("pids.max under the pod: %s", got)
	}
	if got := cgroupValues(t, dir, "memory.max"); !strings.Contains(got, " 67108864\n") {
		t.Errorf("memory.max under the pod, want the container's 67108864:\n%s", got)
	}
	if got := cgroupValues(t, dir, "cpu.max"); !strings.Contains(got, " 25000 100000\n") {
		t.Errorf("cpu.max under the pod, want the container's 25000 100000:\n%s", got)
	}

	poll(t, 4*time.Minute, "pod oom OOMKilled and restarted", func(ctx context.Context) (bool, error) {
		p, err := n.client.CoreV1().Pods(testNamespace).Get(ctx, "oom", metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 {
			return false, nil
		}
		cs := p.Status.ContainerStatuses[0]
		term := cs.LastTerminationState.Terminated
		if cs.RestartCount < 1 || term == nil {
			return false, nil
		}
		if term.Reason != "OOMKilled" || term.ExitCode != 137 {
			t.Errorf("last termination %s exit %d, want OOMKilled 137", term.Reason, term.ExitCode)
		}
		return true, nil
	})
	// The node and the other pod outlive the OOM kill.
	p, err := n.client.CoreV1().Pods(testNamespace).Get(context.Background(), steady, metav1.GetOptions{})
	if err != nil || p.Status.Phase != corev1.PodRunning || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("pod limits after the OOM kill: %v %+v", err, p.Status.ContainerStatuses)
	}
	for _, name := range []string{"limits", "oom"} {
		_ = n.client.CoreV1().Pods(testNamespace).Delete(context.Background(), name, metav1.DeleteOptions{})
	}
}

// limitedPod creates a busybox pod whose one container has limits (and
// requests equal to them) and runs script.
func (n *node) limitedPod(t *testing.T, name string, limits corev1.ResourceList, script string) string {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: new(int64), Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sh", "-c", script},
			Resources: corev1.ResourceRequirements{Limits: limits, Requests: limits},
		}}}}
	if _, err := n.client.CoreV1().Pods(testNamespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	return name
}

// podCgroup finds the pod's cgroup directory (kubelet's pod<uid>).
func podCgroup(t *testing.T, uid string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == "pod"+uid {
			found = path
			return filepath.SkipAll
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no cgroup pod%s under /sys/fs/cgroup", uid)
	}
	return found
}

// cgroupValues lists "<dir> <value>" for each file of that name under dir.
func cgroupValues(t *testing.T, dir, file string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if v, err := os.ReadFile(filepath.Join(path, file)); err == nil {
				b.WriteString(strings.TrimPrefix(path, dir) + " " + string(v))
			}
		}
		return nil
	})
	return b.String()
}
