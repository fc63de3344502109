package process

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// pauseName names the pause process of a shareProcessNamespace pod: pid 1
// of the PID namespace its containers join, as the kubelet's sandbox is.
const pauseName = "POD"

// PauseImage is what the pause process runs.
type PauseImage struct {
	// Layers are the pause image's root filesystem; Self is the svcplane
	// binary bound into it; Argv runs the pause program.
	Layers []string
	Self   string
	Argv   []string
}

// startPause starts the pod's pause process when its containers share a
// PID namespace.
func (r *Runtime) startPause(p *podEntry, pod *corev1.Pod) error {
	if pod.Spec.ShareProcessNamespace == nil || !*pod.Spec.ShareProcessNamespace || pod.Spec.HostPID || p.pause != nil {
		return nil
	}
	img := r.cfg.Pause
	if len(img.Layers) == 0 {
		return errors.New("shareProcessNamespace needs the pause image, which this runtime has not")
	}
	infra := &corev1.Pod{ObjectMeta: pod.ObjectMeta, Spec: corev1.PodSpec{
		HostNetwork: pod.Spec.HostNetwork, HostIPC: pod.Spec.HostIPC,
		Containers: []corev1.Container{{Name: pauseName, TerminationMessagePath: "/dev/termination-log"}},
	}}
	in, err := r.startInstance(p, runtime.ContainerSpec{Pod: infra, Name: pauseName, Layers: img.Layers, Self: img.Self,
		Argv: img.Argv, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Dir: "/",
		Hostname: pod.Name})
	if err != nil {
		return err
	}
	r.mu.Lock()
	p.pause = in
	r.mu.Unlock()
	go r.watch(pod.UID, in)
	return nil
}

// stopPause stops the pause process, after the containers.
func (r *Runtime) stopPause(ctx context.Context, p *podEntry) error {
	r.mu.Lock()
	in := p.pause
	r.mu.Unlock()
	if in == nil || !r.cfg.Launcher.Alive(in.proc) {
		return nil
	}
	return r.stopInstance(ctx, in, pauseName, 0)
}
