package agent

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/probe"
	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/agent/volumes"
)

// podWorker runs one pod: it syncs when woken (pod changed, a container
// exited, a probe changed) or when its next deadline (back-off, resync)
// comes.
type podWorker struct {
	a      *Agent
	uid    types.UID
	wakeCh chan struct{}
	probes *probe.Manager

	mu   sync.Mutex
	pod  *corev1.Pod
	gone bool

	// Only the worker's goroutine uses these.
	tracks      map[string]*track
	lastWritten *corev1.PodStatus
	// vols are the pod's volumes once set up; mountErr the last
	// FailedMount message recorded.
	vols       map[string]volumes.Volume
	mountErr   string
	mountRetry time.Duration
	// deadlineHit is set once activeDeadlineSeconds ended the pod.
	deadlineHit bool
}

// track is what the worker remembers of one container across syncs.
type track struct {
	// delay is the back-off before the next restart.
	delay time.Duration
	// reason and message say why the container waits, when it does.
	reason, message string
	// last is the instance before the running one.
	last *runtime.ContainerState
	// seenExit is the attempt whose exit was already reported.
	seenExit int
}

func newPodWorker(a *Agent, pod *corev1.Pod) *podWorker {
	w := &podWorker{a: a, uid: pod.UID, wakeCh: make(chan struct{}, 1), pod: pod, tracks: map[string]*track{}}
	return w
}

func (w *podWorker) setPod(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod
	w.mu.Unlock()
	w.wake()
}

func (w *podWorker) setGone() {
	w.mu.Lock()
	w.gone = true
	w.mu.Unlock()
	w.wake()
}

func (w *podWorker) snapshot() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.gone
}

func (w *podWorker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

func (w *podWorker) track(name string) *track {
	t, ok := w.tracks[name]
	if !ok {
		t = &track{seenExit: -1}
		w.tracks[name] = t
	}
	return t
}

// run syncs until the pod is gone.
func (w *podWorker) run(ctx context.Context) {
	w.probes = probe.NewManager(ctx, w.probeTarget, w.onProbe)
	defer w.probes.Stop()
	for {
		next, done := w.sync(ctx)
		if done {
			return
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wakeCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// sync brings the pod one step closer to its spec and reports its status.
// It returns when to sync again, and true once the pod is gone for good.
func (w *podWorker) sync(ctx context.Context) (time.Duration, bool) {
	pod, gone := w.snapshot()
	if gone || pod.DeletionTimestamp != nil {
		return 2 * time.Second, w.terminate(ctx, pod, gone)
	}
	if terminal(pod.Status.Phase) {
		return w.a.cfg.Resync, false
	}
	if w.pastDeadline(pod) {
		w.failDeadline(ctx, pod)
		return w.a.cfg.Resync, false
	}
	if !w.prepareVolumes(ctx, pod) {
		w.writeStatus(ctx, pod, nil)
		return w.nextVolumeRetry(), false
	}
	sb, err := w.a.rt.EnsureSandbox(ctx, pod)
	if err != nil {
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonSandboxFailed, "Failed to create pod sandbox: %v", err)
		w.a.log.Error("pod sandbox not created", "pod", podKey(pod), "err", err)
		w.writeStatus(ctx, pod, nil)
		return 5 * time.Second, false
	}
	next := w.syncContainers(ctx, pod, sb)
	w.writeStatus(ctx, pod, &sb)
	if left, ok := untilDeadline(pod, w.a.now()); ok {
		next = min(next, max(left, 0))
	}
	return min(next, w.a.cfg.Resync), false
}

func terminal(p corev1.PodPhase) bool {
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }
