package printers

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// pod is a pod with the named containers (the first two letters of a name
// starting with "i-" make it an init container, "s-" a sidecar), created
// 10 minutes before testNow.
func pod(containers []string, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objMeta("web-0", 10*time.Minute)}
	always := corev1.ContainerRestartPolicyAlways
	for _, name := range containers {
		c := corev1.Container{Name: name, Image: "nginx"}
		switch {
		case strings.HasPrefix(name, "s-"):
			c.RestartPolicy = &always
			fallthrough
		case strings.HasPrefix(name, "i-"):
			p.Spec.InitContainers = append(p.Spec.InitContainers, c)
		default:
			p.Spec.Containers = append(p.Spec.Containers, c)
		}
	}
	p.Status.Phase = corev1.PodPending
	if mutate != nil {
		mutate(p)
	}
	return p
}

func runningPod(mutate func(*corev1.Pod)) *corev1.Pod {
	return pod([]string{"app"}, func(p *corev1.Pod) {
		p.Spec.NodeName = "node-1"
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP, p.Status.PodIPs = "10.244.0.5", []corev1.PodIP{{IP: "10.244.0.5"}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{running("app", true)}
		if mutate != nil {
			mutate(p)
		}
	})
}

func running(name string, ready bool) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, Started: ptr(true),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, exit, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exit, Signal: signal}}}
}

// restarted adds restarts to a status, the last one ended d before testNow.
func restarted(cs corev1.ContainerStatus, n int32, d time.Duration) corev1.ContainerStatus {
	cs.RestartCount = n
	if d > 0 {
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(d)}
	}
	return cs
}

func condition(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
	return corev1.PodCondition{Type: t, Status: s}
}

func TestPodRows(t *testing.T) {
	deleted := ptr(ago(time.Minute))
	testRows(t, schema.GroupResource{Resource: "pods"}, podCases(deleted))
}

func podCases(deleted *metav1.Time) []rowCase {
	return []rowCase{
		{"running", runningPod(nil), "web-0 | 1/1 | Running | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"pending, unscheduled", pod([]string{"app"}, nil), "web-0 | 0/1 | Pending | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"scheduling gated", pod([]string{"app"}, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}}
		}), "web-0 | 0/1 | SchedulingGated | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"container creating", pod([]string{"app"}, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("app", "ContainerCreating")}
		}), "web-0 | 0/1 | ContainerCreating | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"crash loop with last restart", runningPod(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{restarted(waiting("app", "CrashLoopBackOff"), 3, 5*time.Minute)}
		}), "web-0 | 0/1 | CrashLoopBackOff | 3 (5m ago) | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"restarts without a termination time", runningPod(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{restarted(running("app", true), 2, 0)}
		}), "web-0 | 1/1 | Running | 2 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"first container's state wins, restarts add up", pod([]string{"a", "b"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{
				restarted(waiting("a", "ImagePullBackOff"), 1, 3*time.Minute),
				restarted(waiting("b", "ErrImagePull"), 2, 90*time.Second),
			}
		}), "web-0 | 0/2 | ImagePullBackOff | 3 (90s ago) | 10m | <none> | <none> | <none> | <none>"},
		{"completed", runningPod(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("app", "Completed", 0, 0)}
		}), "web-0 | 0/1 | Completed | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"error exit code without reason", runningPod(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("app", "", 2, 0)}
		}), "web-0 | 0/1 | ExitCode:2 | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"killed by signal", runningPod(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("app", "", 137, 9)}
		}), "web-0 | 0/1 | Signal:9 | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"completed container next to a running one, pod ready", pod([]string{"a", "b"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{condition(corev1.PodReady, corev1.ConditionTrue)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true)}
		}), "web-0 | 1/2 | Running | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"completed container next to a running one, pod not ready", pod([]string{"a", "b"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true)}
		}), "web-0 | 1/2 | NotReady | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"evicted", runningPod(func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason = corev1.PodFailed, "Evicted"
			p.Status.ContainerStatuses = nil
		}), "web-0 | 0/1 | Evicted | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"terminating", runningPod(func(p *corev1.Pod) { p.DeletionTimestamp = deleted }),
			"web-0 | 1/1 | Terminating | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"deleted after it completed", runningPod(func(p *corev1.Pod) {
			p.DeletionTimestamp = deleted
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("app", "Completed", 0, 0)}
		}), "web-0 | 0/1 | Completed | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"status reason wins over a running container", runningPod(func(p *corev1.Pod) { p.Status.Reason = "NodeLost" }),
			"web-0 | 1/1 | NodeLost | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
		{"node lost and deleted", runningPod(func(p *corev1.Pod) {
			p.Status.Reason, p.DeletionTimestamp = "NodeLost", deleted
		}), "web-0 | 1/1 | Unknown | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
	}
}

func TestPodInitRows(t *testing.T) {
	testRows(t, schema.GroupResource{Resource: "pods"}, []rowCase{
		{"first init container running", pod([]string{"i-a", "i-b", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{running("i-a", false), waiting("i-b", "PodInitializing")}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("app", "PodInitializing")}
		}), "web-0 | 0/1 | Init:0/2 | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"second init container, PodInitializing is no reason", pod([]string{"i-a", "i-b", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i-a", "Completed", 0, 0), waiting("i-b", "PodInitializing")}
		}), "web-0 | 0/1 | Init:1/2 | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"init crash loop counts init restarts", pod([]string{"i-a", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{restarted(waiting("i-a", "CrashLoopBackOff"), 4, 2*time.Minute)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("app", "PodInitializing")}
		}), "web-0 | 0/1 | Init:CrashLoopBackOff | 4 (2m ago) | 10m | <none> | <none> | <none> | <none>"},
		{"init failed with a reason", pod([]string{"i-a", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i-a", "Error", 1, 0)}
		}), "web-0 | 0/1 | Init:Error | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"init failed with an exit code", pod([]string{"i-a", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i-a", "", 3, 0)}
		}), "web-0 | 0/1 | Init:ExitCode:3 | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"init killed by a signal", pod([]string{"i-a", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i-a", "", 0, 15)}
			p.Status.InitContainerStatuses[0].State.Terminated.ExitCode = 143
		}), "web-0 | 0/1 | Init:Signal:15 | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"init done, container restarts only", pod([]string{"i-a", "app"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{restarted(terminated("i-a", "Completed", 0, 0), 2, 8*time.Minute)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{restarted(running("app", true), 1, 4*time.Minute)}
		}), "web-0 | 1/1 | Running | 1 (4m ago) | 10m | <none> | <none> | <none> | <none>"},
		{"sidecar started and ready counts", pod([]string{"s-proxy", "app"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{restarted(running("s-proxy", true), 1, 6*time.Minute)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("app", true)}
		}), "web-0 | 2/2 | Running | 1 (6m ago) | 10m | <none> | <none> | <none> | <none>"},
		{"sidecar not started yet", pod([]string{"s-proxy", "app"}, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{waiting("s-proxy", "ContainerCreating")}
		}), "web-0 | 0/2 | Init:ContainerCreating | 0 | 10m | <none> | <none> | <none> | <none>"},
		{"initializing but Initialized condition true", pod([]string{"i-a", "app"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{condition(corev1.PodInitialized, corev1.ConditionTrue)}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{restarted(waiting("i-a", "CrashLoopBackOff"), 5, time.Minute)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("app", true)}
		}), "web-0 | 1/1 | Init:CrashLoopBackOff | 0 | 10m | <none> | <none> | <none> | <none>"},
	})
}

func TestPodWideRows(t *testing.T) {
	testRows(t, schema.GroupResource{Resource: "pods"}, []rowCase{
		{"readiness gates", runningPod(func(p *corev1.Pod) {
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}}
			p.Status.Conditions = []corev1.PodCondition{
				condition("example.com/lb", corev1.ConditionTrue),
				condition("example.com/dns", corev1.ConditionFalse),
			}
		}), "web-0 | 1/1 | Running | 0 | 10m | 10.244.0.5 | node-1 | <none> | 1/2"},
		{"nominated node", pod([]string{"app"}, func(p *corev1.Pod) { p.Status.NominatedNodeName = "node-2" }),
			"web-0 | 0/1 | Pending | 0 | 10m | <none> | <none> | node-2 | <none>"},
		{"podIPs only", runningPod(func(p *corev1.Pod) {
			p.Status.PodIP, p.Status.PodIPs = "", []corev1.PodIP{{IP: "fd00::5"}, {IP: "10.244.0.5"}}
		}), "web-0 | 1/1 | Running | 0 | 10m | fd00::5 | node-1 | <none> | <none>"},
		{"podIP wins over podIPs", runningPod(func(p *corev1.Pod) {
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.9.9"}}
		}), "web-0 | 1/1 | Running | 0 | 10m | 10.244.0.5 | node-1 | <none> | <none>"},
	})
}
