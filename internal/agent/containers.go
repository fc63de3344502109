package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/probe"
	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// Back-off between restarts of a failing container, as the kubelet's.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
	// backoffReset is how long an instance must run for the back-off to
	// start over.
	backoffReset = 10 * time.Minute
)

// syncContainers runs the init containers in order, then the containers,
// restarting exited ones as the restart policy says. It returns when it
// needs to look again (the end of a back-off).
func (w *podWorker) syncContainers(ctx context.Context, pod *corev1.Pod, sb runtime.Sandbox) time.Duration {
	state, _ := w.a.rt.Pod(pod.UID)
	w.syncProbes(pod, state)
	// A container started now gets its probe workers before the status
	// is written: without them it would count as ready, no probe having
	// run, until the next sync (an endpoint that comes and goes).
	defer func() {
		now, _ := w.a.rt.Pod(pod.UID)
		w.syncProbes(pod, now)
	}()
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		st, has := state.Container(c.Name)
		w.noteExit(pod, c, st, has)
		switch {
		case has && st.Running:
			return w.a.cfg.Resync
		case has && st.ExitCode == 0:
			continue
		case has && pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
			return w.a.cfg.Resync
		}
		return w.maybeStart(ctx, pod, sb, c, st, has)
	}
	next := w.a.cfg.Resync
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		st, has := state.Container(c.Name)
		w.noteExit(pod, c, st, has)
		switch {
		case has && st.Running:
			w.checkHealth(ctx, pod, c)
		case has && !restarts(pod.Spec.RestartPolicy, st):
		default:
			next = min(next, w.maybeStart(ctx, pod, sb, c, st, has))
		}
	}
	return next
}

func restarts(policy corev1.RestartPolicy, st runtime.ContainerState) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return st.ExitCode != 0
	}
	return true
}

// noteExit reports a container that failed to start, once.
func (w *podWorker) noteExit(pod *corev1.Pod, c *corev1.Container, st runtime.ContainerState, has bool) {
	t := w.track(c.Name)
	if !has || st.Running || t.seenExit == st.Attempt {
		return
	}
	t.seenExit = st.Attempt
	if st.Reason == reasonStartError {
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonFailed, "Error: %s", st.Message)
	}
}

// maybeStart starts a container that has not run yet, or restarts one
// once its back-off is over.
func (w *podWorker) maybeStart(ctx context.Context, pod *corev1.Pod, sb runtime.Sandbox, c *corev1.Container, st runtime.ContainerState, has bool) time.Duration {
	t := w.track(c.Name)
	attempt := 0
	if has {
		attempt = st.Attempt + 1
		if st.FinishedAt.Sub(st.StartedAt) > backoffReset {
			t.delay = 0
		}
		if wait := time.Until(st.FinishedAt.Add(t.delay)); wait > 0 {
			w.enterBackoff(pod, c, t)
			return wait
		}
	}
	res, err := w.pullImage(pod, c)
	if err != nil {
		w.waitWith(pod, c, t, err)
		return backoffInitial
	}
	spec, err := w.containerSpec(ctx, pod, sb, c, res, attempt)
	if err != nil {
		w.waitWith(pod, c, t, err)
		return backoffInitial
	}
	if has {
		t.last = &st
	}
	if err := w.a.rt.Start(ctx, spec); err != nil {
		w.waitWith(pod, c, t, fmt.Errorf("%w: %v", errRunContainer, err))
		return backoffInitial
	}
	w.started(pod, c, t, has)
	return w.a.cfg.Resync
}

func (w *podWorker) started(pod *corev1.Pod, c *corev1.Container, t *track, restarted bool) {
	t.reason, t.message = "", ""
	if restarted {
		t.delay = min(max(t.delay*2, backoffInitial), backoffMax)
	}
	if w.a.cfg.QuietStarts {
		return
	}
	w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonCreated, "Created container: %s", c.Name)
	w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonStarted, "Started container %s", c.Name)
}

// pullImage finds the container's image on the node, with the kubelet's
// events: Pulling and Pulled for pull policy Always (svcplane pulls from
// no registry: the image the node holds is the one "pulled"), "already
// present" for the others. A missing image is waitForImage's.
func (w *podWorker) pullImage(pod *corev1.Pod, c *corev1.Container) (images.Resolved, error) {
	start := time.Now()
	res, err := w.a.cfg.Images.Resolve(c)
	if err != nil || w.a.cfg.QuietStarts {
		return res, err
	}
	if c.ImagePullPolicy != corev1.PullAlways {
		w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonPulled, "Container image %q already present on machine", c.Image)
		return res, nil
	}
	took := time.Since(start).Truncate(time.Millisecond)
	w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonPulling, "Pulling image %q", c.Image)
	w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonPulled, "Successfully pulled image %q in %v (%v including waiting). Image size: %d bytes.",
		c.Image, took, took, res.Size)
	return res, nil
}

func (w *podWorker) enterBackoff(pod *corev1.Pod, c *corev1.Container, t *track) {
	if t.reason != reasonCrashLoop {
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonBackOff, "Back-off restarting failed container %s in pod %s_%s(%s)", c.Name, pod.Name, pod.Namespace, pod.UID)
	}
	t.reason = reasonCrashLoop
	t.message = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", t.delay, c.Name, pod.Name, pod.Namespace, pod.UID)
}

// Errors that keep a container waiting, by the reason they report.
var (
	errRunContainer = errors.New("failed to start container")
	errConfig       = errors.New("invalid container configuration")
)

// waitWith keeps the container waiting with the reason err gives, and
// records an event when the reason or message changes.
func (w *podWorker) waitWith(pod *corev1.Pod, c *corev1.Container, t *track, err error) {
	reason := reasonCreateConfig
	switch {
	case errors.Is(err, images.ErrNotPresent):
		w.waitForImage(pod, c, t, err)
		return
	case errors.Is(err, errRunContainer):
		reason = reasonRunContainer
	}
	msg := strings.TrimPrefix(err.Error(), errConfig.Error()+": ") // kubelet shows the cause alone
	if t.reason != reason || t.message != msg {
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonFailed, "Error: %s", msg)
		w.a.log.Warn("container cannot start", "pod", podKey(pod), "container", c.Name, "reason", reason, "err", msg)
	}
	t.reason, t.message = reason, msg
}

// waitForImage keeps a container whose image the node lacks waiting as
// kubelet does: ErrImagePull when it "pulls" (svcplane pulls from no
// registry: the event says how to import the image), ImagePullBackOff
// between tries, ErrImageNeverPull for pull policy Never.
func (w *podWorker) waitForImage(pod *corev1.Pod, c *corev1.Container, t *track, err error) {
	reason, msg := reasonErrImagePull, err.Error()
	switch {
	case c.ImagePullPolicy == corev1.PullNever:
		reason, msg = reasonNeverPull, fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		if t.reason != reason {
			w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonNeverPull, "%s", msg)
		}
	case t.reason == reasonErrImagePull:
		reason, msg = reasonImageBackOff, fmt.Sprintf("Back-off pulling image %q", c.Image)
		w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonBackOff, "%s", msg)
	default:
		w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonPulling, "Pulling image %q", c.Image)
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonFailed, "Failed to pull image %q: %s", c.Image, msg)
	}
	if t.reason != reason {
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonFailed, "Error: %s", reason)
	}
	t.reason, t.message = reason, msg
}

// checkHealth restarts a container whose liveness (or startup) probe
// failed.
func (w *podWorker) checkHealth(ctx context.Context, pod *corev1.Pod, c *corev1.Container) {
	kind, bad := w.probes.Unhealthy(c.Name)
	if !bad {
		return
	}
	w.a.recorder.Eventf(pod, corev1.EventTypeNormal, reasonKilling, "Container %s failed %s probe, will be restarted", c.Name, kindName(kind))
	if err := w.a.rt.Stop(ctx, pod.UID, c.Name, gracePeriod(pod)); err != nil {
		w.a.log.Error("unhealthy container not stopped", "pod", podKey(pod), "container", c.Name, "err", err)
	}
}

func kindName(k probe.Kind) string {
	if k == probe.Startup {
		return "startup"
	}
	return "liveness"
}

// gracePeriod is how long containers get between SIGTERM and SIGKILL.
func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}
