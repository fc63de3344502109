package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// statusInput is everything a pod's status is computed from.
type statusInput struct {
	Pod     *corev1.Pod
	HasSb   bool
	Sandbox runtime.Sandbox
	NodeIP  string
	Inits   []containerView
	Apps    []containerView
	Now     time.Time
}

// containerView is one container as the worker sees it.
type containerView struct {
	Spec corev1.Container
	// State is the runtime's latest instance; Has is false before the
	// first start.
	State runtime.ContainerState
	Has   bool
	// Waiting is the reason and message of a container not running (not
	// started yet, image error, back-off); empty when none applies.
	WaitingReason, WaitingMessage string
	// Last is the instance before the running one, for lastState.
	Last    *runtime.ContainerState
	Ready   bool
	Started bool
}

// computeStatus is the pod status the agent reports: phase, conditions,
// IPs and container statuses.
func computeStatus(in statusInput) corev1.PodStatus {
	old := in.Pod.Status
	st := corev1.PodStatus{QOSClass: old.QOSClass, StartTime: old.StartTime}
	if st.StartTime == nil {
		st.StartTime = ptrTime(mtime(in.Now))
	}
	if in.NodeIP != "" {
		st.HostIP, st.HostIPs = in.NodeIP, []corev1.HostIP{{IP: in.NodeIP}}
	}
	if in.HasSb && in.Sandbox.IP.IsValid() {
		ip := in.Sandbox.IP.String()
		st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	st.InitContainerStatuses = containerStatuses(in.Pod, in.Inits)
	st.ContainerStatuses = containerStatuses(in.Pod, in.Apps)
	st.Phase = podPhase(in)
	st.Conditions = podConditions(in, st)
	return st
}

func containerStatuses(pod *corev1.Pod, views []containerView) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, v := range views {
		out = append(out, containerStatus(pod, v))
	}
	return out
}

func containerStatus(pod *corev1.Pod, v containerView) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name: v.Spec.Name, Image: v.Spec.Image,
		RestartCount: int32(v.State.Attempt), Ready: v.Ready, Started: &v.Started,
	}
	if v.Has {
		cs.ContainerID = containerID(pod, v.State)
		cs.ImageID = orString(v.State.ImageID, legacyImageID(v.Spec.Image))
	}
	if v.Last != nil {
		cs.LastTerminationState.Terminated = terminated(pod, *v.Last)
	}
	switch {
	case v.Has && v.State.Running:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: mtime(v.State.StartedAt)}
	case v.WaitingReason != "":
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: v.WaitingReason, Message: v.WaitingMessage}
		if v.Has {
			cs.LastTerminationState.Terminated = terminated(pod, v.State)
		}
	case v.Has:
		cs.State.Terminated = terminated(pod, v.State)
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	return cs
}

func terminated(pod *corev1.Pod, s runtime.ContainerState) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{
		ExitCode: int32(s.ExitCode), Reason: s.Reason, Message: s.Message,
		StartedAt: mtime(s.StartedAt), FinishedAt: mtime(s.FinishedAt),
		ContainerID: containerID(pod, s),
	}
}

// containerID names one container instance.
func containerID(pod *corev1.Pod, s runtime.ContainerState) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", pod.UID, s.Name, s.Attempt)))
	return "svcplane://" + hex.EncodeToString(sum[:])
}

// legacyImageID is the imageID of a container started by an svcplane
// that recorded none.
func legacyImageID(image string) string {
	sum := sha256.Sum256([]byte("svcplane-builtin/" + image))
	return image + "@sha256:" + hex.EncodeToString(sum[:])
}

// podPhase follows the kubelet: Pending until every container has run,
// Running while any runs or will restart, then Succeeded or Failed.
func podPhase(in statusInput) corev1.PodPhase {
	if !in.HasSb || !initsDone(in.Inits) {
		if initFailed(in) {
			return corev1.PodFailed
		}
		return corev1.PodPending
	}
	var waiting, running, stopped, succeeded int
	for _, v := range in.Apps {
		switch {
		case v.Has && v.State.Running:
			running++
		case v.Has || v.Last != nil:
			stopped++
			if !v.State.Running && v.WaitingReason == "" && v.State.ExitCode == 0 {
				succeeded++
			}
		default:
			waiting++
		}
	}
	policy := in.Pod.Spec.RestartPolicy
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case policy == corev1.RestartPolicyAlways:
		return corev1.PodRunning
	case stopped == succeeded:
		return corev1.PodSucceeded
	case policy == corev1.RestartPolicyOnFailure:
		return corev1.PodRunning
	}
	return corev1.PodFailed
}

// initsDone says whether every init container completed successfully.
func initsDone(inits []containerView) bool {
	for _, v := range inits {
		if !v.Has || v.State.Running || v.State.ExitCode != 0 {
			return false
		}
	}
	return true
}

// initFailed says whether an init container failed for good.
func initFailed(in statusInput) bool {
	if in.Pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		return false
	}
	for _, v := range in.Inits {
		if v.Has && !v.State.Running && v.State.ExitCode != 0 {
			return true
		}
	}
	return false
}

// agentConditions are the condition types the agent owns; it keeps the
// others (PodScheduled, readiness gates) as they are.
var agentConditions = map[corev1.PodConditionType]bool{
	corev1.PodReadyToStartContainers: true, corev1.PodInitialized: true,
	corev1.ContainersReady: true, corev1.PodReady: true,
}

func podConditions(in statusInput, st corev1.PodStatus) []corev1.PodCondition {
	var out []corev1.PodCondition
	for _, c := range in.Pod.Status.Conditions {
		if !agentConditions[c.Type] {
			out = append(out, c)
		}
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	want := []corev1.PodCondition{
		boolCondition(corev1.PodReadyToStartContainers, in.HasSb && !terminal, "", ""),
		initializedCondition(in),
	}
	cr := containersReadyCondition(in, terminal)
	want = append(want, readyCondition(in.Pod, cr, terminal), cr)
	for _, c := range want {
		out = append(out, keepTransition(c, in.Pod.Status.Conditions, in.Now))
	}
	return out
}

func boolCondition(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
	c := corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
	if !ok {
		c.Status, c.Reason, c.Message = corev1.ConditionFalse, reason, msg
	}
	return c
}

func initializedCondition(in statusInput) corev1.PodCondition {
	var pending []string
	for _, v := range in.Inits {
		if !v.Has || v.State.Running || v.State.ExitCode != 0 {
			pending = append(pending, v.Spec.Name)
		}
	}
	return boolCondition(corev1.PodInitialized, len(pending) == 0, "ContainersNotInitialized",
		fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pending, " ")))
}

func containersReadyCondition(in statusInput, terminal bool) corev1.PodCondition {
	var unready []string
	for _, v := range in.Apps {
		if !v.Ready {
			unready = append(unready, v.Spec.Name)
		}
	}
	if terminal {
		return boolCondition(corev1.ContainersReady, false, "PodCompleted", "")
	}
	return boolCondition(corev1.ContainersReady, len(unready) == 0, "ContainersNotReady",
		fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " ")))
}

// readyCondition is ContainersReady and every readiness gate's condition
// True.
func readyCondition(pod *corev1.Pod, cr corev1.PodCondition, terminal bool) corev1.PodCondition {
	if terminal {
		return boolCondition(corev1.PodReady, false, "PodCompleted", "")
	}
	if cr.Status != corev1.ConditionTrue {
		return boolCondition(corev1.PodReady, false, cr.Reason, cr.Message)
	}
	var missing, unready []string
	for _, g := range pod.Spec.ReadinessGates {
		c := findCondition(pod.Status.Conditions, g.ConditionType)
		switch {
		case c == nil:
			missing = append(missing, string(g.ConditionType))
		case c.Status != corev1.ConditionTrue:
			unready = append(unready, string(g.ConditionType))
		}
	}
	if len(missing)+len(unready) == 0 {
		return boolCondition(corev1.PodReady, true, "", "")
	}
	var msgs []string
	for _, m := range missing {
		msgs = append(msgs, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", m))
	}
	if len(unready) > 0 {
		msgs = append(msgs, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but False", strings.Join(unready, ", ")))
	}
	return boolCondition(corev1.PodReady, false, "ReadinessGatesNotReady", strings.Join(msgs, ", "))
}

func findCondition(conds []corev1.PodCondition, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// keepTransition keeps the old transition time of a condition whose
// status did not change.
func keepTransition(c corev1.PodCondition, old []corev1.PodCondition, now time.Time) corev1.PodCondition {
	c.LastTransitionTime = mtime(now)
	if o := findCondition(old, c.Type); o != nil && o.Status == c.Status {
		c.LastTransitionTime = o.LastTransitionTime
	}
	return c
}

// mtime is t as the API keeps it: whole seconds, so that a status read
// back compares equal to the one written.
func mtime(t time.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t.Truncate(time.Second))
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }
