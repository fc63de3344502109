package agent

import (
	"bytes"
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/probe"
	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// syncProbes runs probe workers for the running containers.
func (w *podWorker) syncProbes(pod *corev1.Pod, state runtime.PodState) {
	if !w.a.cfg.ProbesEnabled {
		return
	}
	var running []probe.Container
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if st, ok := state.Container(c.Name); ok && st.Running {
			running = append(running, probe.Container{Spec: c, Attempt: st.Attempt, StartedAt: st.StartedAt})
		}
	}
	w.probes.Sync(running)
}

// probeTarget says where a container's probes go: the pod's IP, and exec
// through the runtime.
func (w *podWorker) probeTarget(c *corev1.Container) probe.Target {
	pod, _ := w.snapshot()
	t := probe.Target{Ports: c.Ports}
	if st, ok := w.a.rt.Pod(pod.UID); ok {
		t.IP = st.Sandbox.IP.String()
	}
	if s, ok := w.a.rt.(runtime.Streamer); ok {
		uid, name := pod.UID, c.Name
		t.Exec = func(ctx context.Context, cmd []string) (string, int, error) {
			var out bytes.Buffer
			code, err := s.Exec(ctx, runtime.ExecRequest{UID: uid, Container: name, Command: cmd, Stdout: &out, Stderr: &out})
			return out.String(), code, err
		}
	}
	return t
}

// onProbe records failed probes as events and wakes the worker when a
// probe's state changes.
func (w *podWorker) onProbe(e probe.Event) {
	if e.State == probe.Unknown {
		pod, _ := w.snapshot()
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonUnhealthy, "%s probe failed: %s", e.Kind, e.Message)
		return
	}
	w.wake()
}

// containerReady says whether instance attempt of a running container is
// ready and started; a probe that has not passed for that instance (its
// worker not started yet, or only an earlier instance's) says no.
func (w *podWorker) containerReady(c *corev1.Container, attempt int) (ready, started bool) {
	if !w.a.cfg.ProbesEnabled {
		return true, true
	}
	return w.probes.Ready(c, attempt), w.probes.Started(c, attempt)
}
