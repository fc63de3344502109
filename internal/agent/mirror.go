package agent

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	agentruntime "github.com/svcplane/svcplane/internal/agent/runtime"
)

// MirrorAnnotation marks a mirror pod: the API's view of a static pod
// that the node runs itself (svcplane's control plane inside up), which
// the agent does not run.
const MirrorAnnotation = "kubernetes.io/config.mirror"

// isMirror reports whether pod is a mirror pod.
func isMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[MirrorAnnotation]
	return ok
}

// mirrorStreamer serves the logs of mirror pods from their static pods'
// log files (Config.StaticPodLogs) and everything else from the runtime.
type mirrorStreamer struct {
	agentruntime.Streamer
	a *Agent
}

// mirrorPod returns the mirror pod of that UID, if it is one.
func (m mirrorStreamer) mirrorPod(uid types.UID) (*corev1.Pod, bool) {
	for _, obj := range m.a.podStore.List() {
		if p, ok := obj.(*corev1.Pod); ok && p.UID == uid && isMirror(p) {
			return p, true
		}
	}
	return nil, false
}

func (m mirrorStreamer) LogPath(uid types.UID, name string, previous bool) (string, error) {
	pod, ok := m.mirrorPod(uid)
	if !ok {
		return m.Streamer.LogPath(uid, name, previous)
	}
	path := ""
	if m.a.cfg.StaticPodLogs != nil {
		path = m.a.cfg.StaticPodLogs(pod.Name)
	}
	if path == "" || previous {
		return "", fmt.Errorf("previous terminated container %q in pod %q not found", name, pod.Name)
	}
	return path, nil
}

// Exited never closes for a mirror pod: its static pod runs as long as
// the node does.
func (m mirrorStreamer) Exited(uid types.UID, name string) <-chan struct{} {
	if _, ok := m.mirrorPod(uid); ok {
		return make(chan struct{})
	}
	return m.Streamer.Exited(uid, name)
}
