package process

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/qos"
)

// podCgroup makes (or updates) the pod's cgroup; nil without Cgroups.
func (r *Runtime) podCgroup(pod *corev1.Pod) (*cgroups.Pod, error) {
	if r.cfg.Cgroups == nil {
		return nil, nil
	}
	p, err := r.cfg.Cgroups.EnsurePod(pod)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// containerCgroup makes the cgroup of one container instance with the
// container's limits, and its OOM score; nil without Cgroups.
func (r *Runtime) containerCgroup(pod *corev1.Pod, c *corev1.Container, attempt int) (*cgroups.Container, *int, error) {
	p, err := r.podCgroup(pod)
	if p == nil || err != nil {
		return nil, nil, err
	}
	cg, err := p.Container(c.Name, attempt, cgroups.Plan(pod, c))
	if err != nil {
		return nil, nil, err
	}
	adj := cgroups.OOMScoreAdj(podQOS(pod), c, r.cfg.MemoryCapacity)
	return &cg, &adj, nil
}

// openCgroup finds the cgroup of an adopted instance; nil when there is
// none.
func (r *Runtime) openCgroup(rec podRecord, name string, attempt int) *cgroups.Container {
	if r.cfg.Cgroups == nil {
		return nil
	}
	p, err := r.cfg.Cgroups.Pod(rec.UID, rec.QOS)
	if err != nil {
		return nil
	}
	c, err := p.OpenContainer(name, attempt)
	if err != nil {
		return nil
	}
	return &c
}

// oomKilled reports whether the kernel killed a process of the instance
// for memory, and removes its cgroup (and what is left in it).
func (r *Runtime) oomKilled(in *instance) bool {
	if in.cgroup == nil {
		return false
	}
	oom, err := in.cgroup.OOMKilled()
	if err := in.cgroup.Kill(); err != nil {
		r.cfg.Logger.Warn("kill what is left in a container's cgroup", "err", err)
	}
	if err := in.cgroup.Remove(); err != nil {
		r.cfg.Logger.Warn("remove a container's cgroup", "err", err)
	}
	return err == nil && oom
}

// removePodCgroup kills what is left in the pod's cgroup and removes it.
func (r *Runtime) removePodCgroup(rec podRecord) error {
	if r.cfg.Cgroups == nil {
		return nil
	}
	if p, err := r.cfg.Cgroups.Pod(rec.UID, rec.QOS); err == nil {
		_ = p.Kill()
	}
	return r.cfg.Cgroups.RemovePod(rec.UID)
}

func podQOS(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	return qos.Compute(&pod.Spec)
}
