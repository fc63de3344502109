// Package simulated is a Runtime that runs nothing: pods get an IP from
// the node's pod CIDR and their containers are marked running at once, as
// kwok does, so that one machine can hold tens of thousands of pods for
// scale tests of the control plane, the proxy and DNS.
package simulated

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

// Config configures the simulated runtime.
type Config struct {
	// PodCIDR is where pod IPs come from.
	PodCIDR netip.Prefix
	// NodeIP is what hostNetwork pods get.
	NodeIP netip.Addr
	// Now returns the time; time.Now if nil.
	Now func() time.Time
}

// Runtime keeps pod states in memory.
type Runtime struct {
	cfg    Config
	ipam   *netns.IPAM
	mu     sync.Mutex
	pods   map[types.UID]*runtime.PodState
	events chan types.UID
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns an empty simulated runtime.
func New(cfg Config) (*Runtime, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ipam, err := netns.NewIPAM(netns.IPAMConfig{CIDR: cfg.PodCIDR})
	if err != nil {
		return nil, err
	}
	return &Runtime{cfg: cfg, ipam: ipam, pods: map[types.UID]*runtime.PodState{}, events: make(chan types.UID, 1024)}, nil
}

// EnsureSandbox gives the pod an IP.
func (r *Runtime) EnsureSandbox(_ context.Context, pod *corev1.Pod) (runtime.Sandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pods[pod.UID]; ok {
		return p.Sandbox, nil
	}
	sb := runtime.Sandbox{IP: r.cfg.NodeIP}
	if !pod.Spec.HostNetwork {
		ip, err := r.ipam.Allocate(string(pod.UID))
		if err != nil {
			return runtime.Sandbox{}, err
		}
		sb.IP = ip
	}
	r.pods[pod.UID] = &runtime.PodState{Sandbox: sb}
	return sb, nil
}

// RemoveSandbox frees the pod's IP.
func (r *Runtime) RemoveSandbox(_ context.Context, uid types.UID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pods, uid)
	return r.ipam.Release(string(uid))
}

// Start marks the container running.
func (r *Runtime) Start(_ context.Context, spec runtime.ContainerSpec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[spec.Pod.UID]
	if !ok {
		return fmt.Errorf("start %s: pod %s has no sandbox", spec.Name, spec.Pod.UID)
	}
	c := runtime.ContainerState{Name: spec.Name, Attempt: spec.Attempt, ImageID: spec.ImageID, Running: true, StartedAt: r.cfg.Now()}
	p.Containers = replace(p.Containers, c)
	return nil
}

// Stop marks the container exited with code 0.
func (r *Runtime) Stop(_ context.Context, uid types.UID, name string, _ time.Duration) error {
	r.mu.Lock()
	p, ok := r.pods[uid]
	if ok {
		if c, found := p.Container(name); found && c.Running {
			c.Running, c.FinishedAt, c.Reason = false, r.cfg.Now(), "Completed"
			p.Containers = replace(p.Containers, c)
		}
	}
	r.mu.Unlock()
	if ok {
		select {
		case r.events <- uid:
		default:
		}
	}
	return nil
}

func replace(cs []runtime.ContainerState, c runtime.ContainerState) []runtime.ContainerState {
	for i := range cs {
		if cs[i].Name == c.Name {
			cs[i] = c
			return cs
		}
	}
	return append(cs, c)
}

// Pod returns a copy of the pod's state.
func (r *Runtime) Pod(uid types.UID) (runtime.PodState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[uid]
	if !ok {
		return runtime.PodState{}, false
	}
	out := *p
	out.Containers = append([]runtime.ContainerState(nil), p.Containers...)
	return out, true
}

// Pods returns every pod's UID.
func (r *Runtime) Pods() []types.UID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]types.UID, 0, len(r.pods))
	for uid := range r.pods {
		out = append(out, uid)
	}
	return out
}

// Events delivers pods whose containers stopped.
func (r *Runtime) Events() <-chan types.UID { return r.events }
