package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/qos"
)

// Pod is a pod's cgroup: kubepods[/burstable|/besteffort]/pod<uid>.
type Pod struct {
	node *Node
	UID  types.UID
	QOS  corev1.PodQOSClass
	rel  string
}

// Container is one container instance's cgroup: <pod>/<name>_<attempt>.
type Container struct {
	node    *Node
	Name    string
	Attempt int
	rel     string
}

// EnsurePod creates the pod's cgroup (or finds it after an agent restart)
// below its QoS class (status.qosClass, computed when the API server did
// not set it) and writes PodPlan's settings.
func (n *Node) EnsurePod(pod *corev1.Pod) (Pod, error) {
	class := pod.Status.QOSClass
	if class == "" {
		class = qos.Compute(&pod.Spec)
	}
	p, err := n.pod(pod.UID, class)
	if err != nil {
		return Pod{}, err
	}
	if err := n.mkdir(p.rel, true); err != nil {
		return Pod{}, err
	}
	if err := n.apply(p.rel, PodPlan(pod, class, n.pidsLimit)); err != nil {
		return Pod{}, err
	}
	return p, nil
}

func (n *Node) pod(uid types.UID, class corev1.PodQOSClass) (Pod, error) {
	if err := checkName(string(uid)); err != nil {
		return Pod{}, fmt.Errorf("cgroups: pod uid: %w", err)
	}
	return Pod{node: n, UID: uid, QOS: class, rel: filepath.Join(qosDir(class), "pod"+string(uid))}, nil
}

// Container creates the cgroup of attempt of container name (or reuses it)
// and writes s (see Plan).
func (p Pod) Container(name string, attempt int, s Settings) (Container, error) {
	c, err := p.container(name, attempt)
	if err != nil {
		return Container{}, err
	}
	if err := p.node.mkdir(c.rel, false); err != nil {
		return Container{}, err
	}
	if err := p.node.apply(c.rel, s); err != nil {
		return Container{}, err
	}
	return c, nil
}

func (p Pod) container(name string, attempt int) (Container, error) {
	if err := checkName(name); err != nil || strings.Contains(name, "_") || attempt < 0 {
		return Container{}, fmt.Errorf("cgroups: invalid container %q attempt %d", name, attempt)
	}
	rel := filepath.Join(p.rel, name+"_"+strconv.Itoa(attempt))
	return Container{node: p.node, Name: name, Attempt: attempt, rel: rel}, nil
}

// Containers lists the container cgroups of the pod (after an agent
// restart).
func (p Pod) Containers() ([]Container, error) {
	entries, err := p.node.fs.ReadDir(p.node.dir("memory", p.rel))
	if err != nil {
		return nil, fmt.Errorf("cgroups: list pod %s: %w", p.UID, err)
	}
	var out []Container
	for _, e := range entries {
		name, attempt, ok := strings.Cut(e.Name(), "_")
		a, err := strconv.Atoi(attempt)
		if !e.IsDir() || !ok || err != nil {
			continue
		}
		c, err := p.container(name, a)
		if err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// Kill kills every process in the pod's cgroups and waits for them to go.
func (p Pod) Kill() error { return p.node.kill(p.rel) }

// Dirs are the pod's cgroup directories, one per hierarchy.
func (p Pod) Dirs() []string { return p.node.dirs(p.rel) }

// Procs are the cgroup.procs files the container's init writes its pid
// into before it runs the workload: one per v1 hierarchy, one on v2.
func (c Container) Procs() []string {
	dirs := c.node.dirs(c.rel)
	for i, d := range dirs {
		dirs[i] = filepath.Join(d, "cgroup.procs")
	}
	return dirs
}

// Dirs are the container's cgroup directories, one per hierarchy.
func (c Container) Dirs() []string { return c.node.dirs(c.rel) }

// OOMKilled reports whether the kernel's OOM killer killed a process of the
// container (oom_kill in memory.oom_control on v1, memory.events on v2).
func (c Container) OOMKilled() (bool, error) {
	file := "memory.oom_control"
	if c.node.v2 {
		file = "memory.events"
	}
	v, err := c.node.counter(filepath.Join(c.node.dir("memory", c.rel), file), "oom_kill")
	if err != nil {
		return false, fmt.Errorf("cgroups: container %s: %w", c.Name, err)
	}
	return v > 0, nil
}

// Pids lists the processes in the container's cgroup.
func (c Container) Pids() ([]int, error) { return c.node.pids(c.node.dir("memory", c.rel)) }

// Kill kills every process in the container's cgroup and waits for them to
// go.
func (c Container) Kill() error { return c.node.kill(c.rel) }

// Remove removes the container's cgroups. It kills nothing: with processes
// left it fails with ErrBusy (see Kill).
func (c Container) Remove() error { return c.node.removeTree(c.rel) }

// RemovePod removes the pod's cgroups and its containers' (ErrBusy while
// processes are left, see Pod.Kill); a pod without cgroups is no error.
func (n *Node) RemovePod(uid types.UID) error {
	for _, class := range []corev1.PodQOSClass{corev1.PodQOSGuaranteed, corev1.PodQOSBurstable, corev1.PodQOSBestEffort} {
		p, err := n.pod(uid, class)
		if err != nil {
			return err
		}
		if err := n.removeTree(p.rel); err != nil {
			return err
		}
	}
	return nil
}

// Pods lists the pod cgroups of the node, for an agent that restarts and
// reattaches to its running pods.
func (n *Node) Pods() ([]Pod, error) {
	var out []Pod
	for _, class := range []corev1.PodQOSClass{corev1.PodQOSGuaranteed, corev1.PodQOSBurstable, corev1.PodQOSBestEffort} {
		dir := n.dir("memory", qosDir(class))
		entries, err := n.fs.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cgroups: list pods: %w", err)
		}
		for _, e := range entries {
			uid, ok := strings.CutPrefix(e.Name(), "pod")
			if !e.IsDir() || !ok {
				continue
			}
			if p, err := n.pod(types.UID(uid), class); err == nil {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Pod returns the handle of an existing pod cgroup found by Pods, or of
// one to be created by EnsurePod.
func (n *Node) Pod(uid types.UID, class corev1.PodQOSClass) (Pod, error) { return n.pod(uid, class) }

// Container returns the handle of an existing container cgroup without
// writing anything.
func (p Pod) OpenContainer(name string, attempt int) (Container, error) {
	return p.container(name, attempt)
}
