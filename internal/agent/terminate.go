package agent

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// terminate stops a deleted pod's containers (SIGTERM, then SIGKILL after
// the grace period), removes its sandbox and, when the pod is still in the
// API, deletes it for good (grace 0). It returns true when done.
func (w *podWorker) terminate(ctx context.Context, pod *corev1.Pod, gone bool) bool {
	grace := gracePeriod(pod)
	if gone {
		grace = min(grace, 2e9)
	}
	w.stopContainers(ctx, pod, grace, !gone)
	if err := w.a.rt.RemoveSandbox(ctx, pod.UID); err != nil {
		w.a.log.Error("sandbox not removed", "pod", podKey(pod), "err", err)
		return false
	}
	w.releaseImages(pod)
	if err := w.a.removeVolumes(pod.UID); err != nil {
		w.a.log.Error("volumes not removed", "pod", podKey(pod), "err", err)
		return false
	}
	if gone {
		return true
	}
	return w.deleteFromAPI(ctx, pod)
}

// stopContainers stops the pod's running containers and their probes
// (SIGTERM, then SIGKILL after grace), with a Killing event each when
// events is set.
func (w *podWorker) stopContainers(ctx context.Context, pod *corev1.Pod, grace time.Duration, events bool) {
	w.probes.Stop()
	state, _ := w.a.rt.Pod(pod.UID)
	var wg sync.WaitGroup
	for _, c := range state.Containers {
		if !c.Running {
			continue
		}
		if events {
			w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonKilling, "Stopping container %s", c.Name)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.a.rt.Stop(ctx, pod.UID, c.Name, grace); err != nil {
				w.a.log.Error("container not stopped", "pod", podKey(pod), "container", c.Name, "err", err)
			}
		}()
	}
	wg.Wait()
}

// deleteFromAPI finishes the graceful deletion.
func (w *podWorker) deleteFromAPI(ctx context.Context, pod *corev1.Pod) bool {
	opts := metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &pod.UID}}
	err := w.a.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		w.a.log.Error("pod not deleted", "pod", podKey(pod), "err", err)
		return false
	}
	w.a.log.Info("pod terminated", "pod", podKey(pod))
	return true
}
