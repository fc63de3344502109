package agent

import (
	"context"
	"errors"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/agent/volumes"
)

// Event reasons of volumes.
const (
	reasonFailedMount       = "FailedMount"
	reasonVolumesNotMounted = "VolumesNotMounted"
)

// The tries of a pod whose volumes cannot be set up yet (a ConfigMap or
// Secret that does not exist, as kube-root-ca.crt in a namespace just
// made) start volumeRetryMin apart and double up to volumeRetryMax, as
// kubelet's volume manager backs off.
const (
	volumeRetryMin = 250 * time.Millisecond
	volumeRetryMax = 4 * time.Second
)

// nextVolumeRetry is the wait before the next try, doubling each time.
func (w *podWorker) nextVolumeRetry() time.Duration {
	w.mountRetry = min(max(w.mountRetry*2, volumeRetryMin), volumeRetryMax)
	return w.mountRetry
}

// clientTokens asks the API for ServiceAccount tokens.
type clientTokens struct{ c kubernetes.Interface }

func (t clientTokens) CreateToken(ctx context.Context, ns, sa string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	return t.c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, req, metav1.CreateOptions{})
}

// newVolumes returns the volume manager, or nil when the runtime mounts
// none (the simulated runtime).
func newVolumes(cfg Config, a *Agent) *volumes.Manager {
	if cfg.VolumeRoot == "" {
		return nil
	}
	return volumes.New(volumes.Config{Root: cfg.VolumeRoot, Objects: a, Tokens: clientTokens{cfg.Client}, Claims: a,
		NodeCPUs: nodeCPUs, Now: cfg.Now, Logger: cfg.Logger.With("part", "volumes")})
}

// prepareVolumes sets up (and refreshes: ConfigMap and Secret updates,
// token renewals) the pod's volumes. Until they are all set up once the
// pod waits, with kubelet's FailedMount event; later failures keep the
// volumes as they were, as kubelet does.
func (w *podWorker) prepareVolumes(ctx context.Context, pod *corev1.Pod) bool {
	vm := w.a.volumes
	if vm == nil {
		w.noteUnmounted(pod)
		return true
	}
	vols, err := vm.Setup(ctx, pod)
	if err == nil {
		w.vols, w.mountErr, w.mountRetry = vols, "", 0
		return true
	}
	var se *volumes.SetupError
	if !errors.As(err, &se) || ctx.Err() != nil {
		w.a.log.Error("volumes not set up", "pod", podKey(pod), "err", err)
		return w.vols != nil
	}
	if msg := se.Error(); msg != w.mountErr {
		w.mountErr = msg
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonFailedMount, "%s", msg)
		w.a.log.Warn("volume not set up", "pod", podKey(pod), "err", msg)
	}
	return w.vols != nil
}

// noteUnmounted says once, for a runtime without mounts, that the pod's
// volumes are not mounted (the automatic service account volume aside,
// which every pod has).
func (w *podWorker) noteUnmounted(pod *corev1.Pod) {
	if w.mountErr != "" {
		return
	}
	var names []string
	for _, v := range pod.Spec.Volumes {
		if !strings.HasPrefix(v.Name, "kube-api-access-") {
			names = append(names, v.Name)
		}
	}
	w.mountErr = "noted"
	if len(names) > 0 {
		w.a.recorder.Eventf(pod, corev1.EventTypeWarning, reasonVolumesNotMounted,
			"The %s runtime mounts no volumes; not mounted: %s", w.a.cfg.RuntimeName, strings.Join(names, ", "))
	}
}

// containerMounts resolves a container's volumeMounts (vals expand
// subPathExpr).
func (w *podWorker) containerMounts(c *corev1.Container, vals map[string]string) ([]runtime.Mount, error) {
	if w.a.volumes == nil {
		return nil, nil
	}
	ms, err := volumes.ContainerMounts(c, w.vols, func(s string) string { return Expand(s, vals) })
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Mount, len(ms))
	for i, m := range ms {
		out[i] = runtime.Mount{Source: m.Source, Destination: m.Destination, ReadOnly: m.ReadOnly}
	}
	return out, nil
}

// removeVolumes tears down a pod's volumes once its containers are gone.
func (a *Agent) removeVolumes(uid types.UID) error {
	if a.volumes == nil {
		return nil
	}
	return a.volumes.Teardown(uid)
}
