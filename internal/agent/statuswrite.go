package agent

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// writeStatus computes the pod's status and writes it when it differs
// from both the stored one and the last one written.
func (w *podWorker) writeStatus(ctx context.Context, pod *corev1.Pod, sb *runtime.Sandbox) {
	st := computeStatus(w.statusInput(pod, sb))
	if equality.Semantic.DeepEqual(pod.Status, st) {
		w.lastWritten = &st
		return
	}
	if w.lastWritten != nil && equality.Semantic.DeepEqual(*w.lastWritten, st) && pod.Status.Phase == st.Phase {
		return
	}
	out := pod.DeepCopy()
	out.Status = st
	if _, err := w.a.cfg.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
		if ctx.Err() == nil {
			w.a.log.Debug("pod status not written; retrying on the next sync", "pod", podKey(pod), "err", err)
		}
		w.lastWritten = nil
		return
	}
	w.lastWritten = &st
}

// statusInput gathers what the status is computed from.
func (w *podWorker) statusInput(pod *corev1.Pod, sb *runtime.Sandbox) statusInput {
	in := statusInput{Pod: pod, NodeIP: w.a.cfg.NodeIP.String(), Now: w.a.now()}
	state, _ := w.a.rt.Pod(pod.UID)
	if sb != nil {
		in.HasSb, in.Sandbox = true, *sb
	}
	in.Inits = w.views(pod.Spec.InitContainers, state)
	in.Apps = w.views(pod.Spec.Containers, state)
	return in
}

func (w *podWorker) views(specs []corev1.Container, state runtime.PodState) []containerView {
	var out []containerView
	for _, c := range specs {
		st, has := state.Container(c.Name)
		t := w.track(c.Name)
		v := containerView{Spec: c, State: st, Has: has, Last: t.last}
		if has && st.Running {
			v.Ready, v.Started = w.containerReady(&c, st.Attempt)
		} else {
			v.WaitingReason, v.WaitingMessage = t.reason, t.message
		}
		out = append(out, v)
	}
	return out
}
