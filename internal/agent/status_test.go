package agent

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

func TestComputeStatus(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	running := func(name string) containerView {
		return containerView{Spec: corev1.Container{Name: name}, Has: true, Ready: true, Started: true,
			State: runtime.ContainerState{Name: name, Running: true, StartedAt: now}}
	}
	exited := func(name string, code int) containerView {
		return containerView{Spec: corev1.Container{Name: name}, Has: true,
			State: runtime.ContainerState{Name: name, ExitCode: code, Reason: "Error", StartedAt: now, FinishedAt: now}}
	}
	unready := running("b")
	unready.Ready = false
	backoff := exited("a", 1)
	backoff.WaitingReason = "CrashLoopBackOff"
	tests := []struct {
		name      string
		policy    corev1.RestartPolicy
		noSandbox bool
		apps      []containerView
		gates     []string
		gateTrue  bool
		phase     corev1.PodPhase
		ready     corev1.ConditionStatus
		readyWhy  string
	}{
		{name: "no sandbox yet", noSandbox: true, apps: []containerView{{Spec: corev1.Container{Name: "a"}}}, phase: corev1.PodPending, ready: corev1.ConditionFalse, readyWhy: "ContainersNotReady"},
		{name: "all running and ready", apps: []containerView{running("a"), running("b")}, phase: corev1.PodRunning, ready: corev1.ConditionTrue},
		{name: "one not ready", apps: []containerView{running("a"), unready}, phase: corev1.PodRunning, ready: corev1.ConditionFalse, readyWhy: "ContainersNotReady"},
		{name: "crash loop is Running", apps: []containerView{backoff}, phase: corev1.PodRunning, ready: corev1.ConditionFalse, readyWhy: "ContainersNotReady"},
		{name: "never: all exited 0", policy: corev1.RestartPolicyNever, apps: []containerView{exited("a", 0)}, phase: corev1.PodSucceeded, ready: corev1.ConditionFalse, readyWhy: "PodCompleted"},
		{name: "never: one failed", policy: corev1.RestartPolicyNever, apps: []containerView{exited("a", 0), exited("b", 2)}, phase: corev1.PodFailed, ready: corev1.ConditionFalse, readyWhy: "PodCompleted"},
		{name: "readiness gate missing", apps: []containerView{running("a")}, gates: []string{"example.com/lb"}, phase: corev1.PodRunning, ready: corev1.ConditionFalse, readyWhy: "ReadinessGatesNotReady"},
		{name: "readiness gate true", apps: []containerView{running("a")}, gates: []string{"example.com/lb"}, gateTrue: true, phase: corev1.PodRunning, ready: corev1.ConditionTrue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: orPolicy(tt.policy)}}
			for _, g := range tt.gates {
				pod.Spec.ReadinessGates = append(pod.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: corev1.PodConditionType(g)})
				if tt.gateTrue {
					pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.PodConditionType(g), Status: corev1.ConditionTrue})
				}
			}
			in := statusInput{Pod: pod, HasSb: !tt.noSandbox, Sandbox: runtime.Sandbox{IP: netip.MustParseAddr("10.244.0.5")}, NodeIP: "10.240.0.2", Apps: tt.apps, Now: now}
			st := computeStatus(in)
			if st.Phase != tt.phase {
				t.Errorf("phase %s, want %s", st.Phase, tt.phase)
			}
			c := findCondition(st.Conditions, corev1.PodReady)
			if c == nil || c.Status != tt.ready || c.Reason != tt.readyWhy {
				t.Errorf("Ready condition %+v, want %s %s", c, tt.ready, tt.readyWhy)
			}
			if !tt.noSandbox && st.PodIP != "10.244.0.5" {
				t.Errorf("pod IP %q", st.PodIP)
			}
		})
	}
}

func orPolicy(p corev1.RestartPolicy) corev1.RestartPolicy {
	if p == "" {
		return corev1.RestartPolicyAlways
	}
	return p
}

func TestContainerStatusInBackOffShowsLastState(t *testing.T) {
	now := time.Now()
	v := containerView{Spec: corev1.Container{Name: "a", Image: "busybox"}, Has: true, WaitingReason: "CrashLoopBackOff", WaitingMessage: "back-off 10s",
		State: runtime.ContainerState{Name: "a", Attempt: 2, ExitCode: 1, Reason: "Error", StartedAt: now, FinishedAt: now}}
	cs := containerStatus(&corev1.Pod{}, v)
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.RestartCount != 2 {
		t.Fatalf("state %+v restarts %d", cs.State, cs.RestartCount)
	}
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
		t.Fatalf("last state %+v", cs.LastTerminationState)
	}
}
