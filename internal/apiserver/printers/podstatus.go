package printers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeLostReason is the status.reason the node lifecycle controller sets on
// pods of an unreachable node (upstream's node.NodeUnreachablePodReason).
const nodeLostReason = "NodeLost"

// podSummary is what the Ready, Status and Restarts cells of a pod show.
type podSummary struct {
	ready, total int
	reason       string // the Status cell
	restarts     int
	lastRestart  metav1.Time
	// restarts and last restart of sidecars (restartable init containers)
	// only, which is what counts once the pod is initialized.
	sidecarRestarts    int
	sidecarLastRestart metav1.Time
}

// summarizePod computes the Ready, Status and Restarts cells the way
// upstream's printPod does: the phase (or status.reason), overridden by the
// first init container still at work, else by the containers' states (the
// first container's state wins), and last by deletion.
func summarizePod(pod *corev1.Pod) podSummary {
	s := podSummary{total: len(pod.Spec.Containers), reason: string(pod.Status.Phase)}
	if pod.Status.Reason != "" {
		s.reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			s.reason = corev1.PodReasonSchedulingGated
		}
	}
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			s.total++
		}
	}
	initializing := s.addInitContainers(pod)
	if !initializing || initializedConditionTrue(pod.Status.Conditions) {
		s.addContainers(pod)
	}
	if pod.DeletionTimestamp != nil {
		if pod.Status.Reason == nodeLostReason {
			s.reason = "Unknown"
		} else if !podPhaseTerminal(pod.Status.Phase) {
			s.reason = "Terminating"
		}
	}
	return s
}

// addInitContainers counts restarts of the init containers and, for the first
// one that has not completed (a started sidecar counts as completed), sets the
// Init:... reason. It reports whether the pod is still initializing.
func (s *podSummary) addInitContainers(pod *corev1.Pod) bool {
	spec := map[string]*corev1.Container{}
	for i := range pod.Spec.InitContainers {
		spec[pod.Spec.InitContainers[i].Name] = &pod.Spec.InitContainers[i]
	}
	for i, cs := range pod.Status.InitContainerStatuses {
		sidecar := isSidecar(spec[cs.Name])
		s.countRestarts(cs, sidecar)
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case sidecar && cs.Started != nil && *cs.Started:
			if cs.Ready {
				s.ready++
			}
			continue
		case cs.State.Terminated != nil:
			s.reason = "Init:" + terminatedReason(cs.State.Terminated)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			s.reason = "Init:" + cs.State.Waiting.Reason
		default:
			s.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		return true
	}
	return false
}

// addContainers walks the containers last to first, so the reason of the
// first container that is waiting or terminated wins; ready counts running
// containers that are ready.
func (s *podSummary) addContainers(pod *corev1.Pod) {
	s.restarts, s.lastRestart = s.sidecarRestarts, s.sidecarLastRestart
	hasRunning := false
	statuses := pod.Status.ContainerStatuses
	for i := len(statuses) - 1; i >= 0; i-- {
		cs := statuses[i]
		s.countRestarts(cs, false)
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			s.reason = cs.State.Waiting.Reason
		case cs.State.Terminated != nil:
			s.reason = terminatedReason(cs.State.Terminated)
		case cs.Ready && cs.State.Running != nil:
			hasRunning = true
			s.ready++
		}
	}
	// A pod whose other containers still run is not "Completed".
	if s.reason == "Completed" && hasRunning {
		s.reason = "NotReady"
		if podReady(pod.Status.Conditions) {
			s.reason = "Running"
		}
	}
}

// countRestarts adds a container's restarts and keeps the latest time one of
// them ended; sidecar restarts are also kept apart.
func (s *podSummary) countRestarts(cs corev1.ContainerStatus, sidecar bool) {
	s.restarts += int(cs.RestartCount)
	last := cs.LastTerminationState.Terminated
	if last != nil && s.lastRestart.Before(&last.FinishedAt) {
		s.lastRestart = last.FinishedAt
	}
	if !sidecar {
		return
	}
	s.sidecarRestarts += int(cs.RestartCount)
	if last != nil && s.sidecarLastRestart.Before(&last.FinishedAt) {
		s.sidecarLastRestart = last.FinishedAt
	}
}

// terminatedReason is the reason of a terminated container, or
// Signal:N / ExitCode:N when it has none.
func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	}
	return fmt.Sprintf("ExitCode:%d", t.ExitCode)
}

// isSidecar reports whether an init container is restartable (a sidecar).
func isSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func initializedConditionTrue(conditions []corev1.PodCondition) bool {
	c := podCondition(conditions, corev1.PodInitialized)
	return c != nil && c.Status == corev1.ConditionTrue
}

func podReady(conditions []corev1.PodCondition) bool {
	for _, c := range conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func podPhaseTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodFailed || phase == corev1.PodSucceeded
}
