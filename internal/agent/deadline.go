package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// A pod's spec.activeDeadlineSeconds, counted from status.startTime, ends
// it as the kubelet does: its containers are stopped and it is reported
// Failed with reason DeadlineExceeded (also a Normal event), for good.
const (
	reasonDeadlineExceeded = "DeadlineExceeded"
	deadlineMessage        = "Pod was active on the node longer than the specified deadline"
)

// untilDeadline is how long the pod may still be active; ok is false
// when it has no deadline or has not started.
func untilDeadline(pod *corev1.Pod, now time.Time) (time.Duration, bool) {
	if pod.Spec.ActiveDeadlineSeconds == nil || pod.Status.StartTime == nil {
		return 0, false
	}
	return pod.Status.StartTime.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second).Sub(now), true
}

// pastDeadline says whether the pod's deadline passed (or passed before:
// the pod stays failed even if its deadline is raised or its status
// write has not been seen yet).
func (w *podWorker) pastDeadline(pod *corev1.Pod) bool {
	if w.deadlineHit {
		return true
	}
	left, ok := untilDeadline(pod, w.a.now())
	return ok && left <= 0
}

// failDeadline stops the pod's containers and writes its Failed status.
func (w *podWorker) failDeadline(ctx context.Context, pod *corev1.Pod) {
	if !w.deadlineHit {
		w.deadlineHit = true
		w.a.recorder.Event(pod, corev1.EventTypeNormal, reasonDeadlineExceeded, deadlineMessage)
	}
	w.stopContainers(ctx, pod, gracePeriod(pod), true)
	var sb *runtime.Sandbox
	if state, ok := w.a.rt.Pod(pod.UID); ok {
		sb = &state.Sandbox
	}
	st := computeStatus(w.statusInput(pod, sb))
	st.Phase, st.Reason, st.Message = corev1.PodFailed, reasonDeadlineExceeded, deadlineMessage
	if w.lastWritten != nil && w.lastWritten.Phase == corev1.PodFailed {
		return
	}
	out := pod.DeepCopy()
	out.Status = st
	if _, err := w.a.cfg.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
		w.a.log.Debug("deadline status not written; retrying on the next sync", "pod", podKey(pod), "err", err)
		return
	}
	w.lastWritten = &st
}
