// Package process is the Runtime that runs pods for real: each pod gets a
// network namespace joined to the node bridge by a veth pair, and each
// container is a process tree started through `svcplane internal-init` in
// the pod's namespaces (network, plus its own mount and UTS namespaces for
// the hostname and the /etc files). Processes run in sessions of their own
// and their state is kept in files, so they outlive the agent and a new
// agent adopts them.
package process

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/agent/hostport"
	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

// Config configures the process runtime.
type Config struct {
	// Root keeps the runtime's state (see state.go).
	Root string
	// SeccompDir holds the node's Localhost seccomp profiles
	// (localhostProfile is a path under it, as under kubelet's
	// <root-dir>/seccomp).
	SeccompDir string
	// Names prefixes the namespaces the runtime creates.
	Names netns.Names
	// Namespaces and Network reach the kernel (netns.Dir and
	// netns.Netlink for the namespace the agent runs in).
	Namespaces netns.Namespaces
	Network    netns.Network
	// PodCIDR is the node's; NodeIP what hostNetwork pods get.
	PodCIDR netip.Prefix
	// PodMTU is the MTU of the pods' interfaces; 0 keeps 1500.
	PodMTU int
	NodeIP netip.Addr
	// Launcher starts processes; InitArgv is the command that runs
	// internal-init (the spec file is appended); ContainerArgv runs
	// internal-container, whose --join steps into a container for exec.
	Launcher Launcher
	// Pinner keeps the pods' IPC namespaces (KernelPinner{} if nil).
	Pinner Pinner
	// Cgroups holds the pods' and containers' cgroups (nil: none);
	// MemoryCapacity is the node's, for OOM scores.
	Cgroups        *cgroups.Node
	MemoryCapacity int64
	// Pause runs the pause process of shareProcessNamespace pods.
	Pause         PauseImage
	InitArgv      []string
	ContainerArgv []string
	// HostPorts maps pods' hostPorts on the node; nil maps none.
	HostPorts HostPorts
	// PollInterval spaces the checks of running processes (200ms).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Runtime runs pods as namespaces and processes.
type Runtime struct {
	cfg    Config
	files  layout
	ipam   *netns.IPAM
	mu     sync.Mutex
	pods   map[types.UID]*podEntry
	events chan types.UID
	// hostPortsMu serializes hostPort syncs; hostPortsStale says the
	// last one failed, hostPortsLast what it mapped.
	hostPortsMu    sync.Mutex
	hostPortsStale bool
	hostPortsLast  []hostport.Mapping
}

// podEntry is one pod in memory.
type podEntry struct {
	rec        podRecord
	containers map[string]*instance
	// pause holds the PID namespace of a shareProcessNamespace pod.
	pause *instance
}

// instance is the latest instance of one container.
type instance struct {
	state runtime.ContainerState
	proc  procRecord
	spec  runtime.ContainerSpec
	dir   string
	// cgroup is the instance's cgroup (zero without Cgroups).
	cgroup *cgroups.Container
	// exited closes when a running instance has exited.
	exited chan struct{}
}

var (
	_ runtime.Runtime  = (*Runtime)(nil)
	_ runtime.Streamer = (*Runtime)(nil)
)

// New sets up the node bridge and adopts the pods kept under cfg.Root.
func New(cfg Config) (*Runtime, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Pinner == nil {
		cfg.Pinner = KernelPinner{}
	}
	r := &Runtime{cfg: cfg, files: layout{root: cfg.Root}, pods: map[types.UID]*podEntry{}, events: make(chan types.UID, 256)}
	if err := os.MkdirAll(r.files.podsDir(), 0o755); err != nil {
		return nil, fmt.Errorf("runtime root: %w", err)
	}
	ipam, err := netns.NewIPAM(netns.IPAMConfig{CIDR: cfg.PodCIDR, Dir: r.files.ipamDir()})
	if err != nil {
		return nil, err
	}
	r.ipam = ipam
	if err := cfg.Network.EnsureBridge(netns.Bridge{Name: netns.BridgeName, Gateway: ipam.Gateway()}); err != nil {
		return nil, err
	}
	if err := r.adopt(); err != nil {
		return nil, err
	}
	r.syncHostPorts(context.Background())
	return r, nil
}

// adopt loads every kept pod and its containers' latest instances,
// watching those that still run.
func (r *Runtime) adopt() error {
	entries, err := os.ReadDir(r.files.podsDir())
	if err != nil {
		return fmt.Errorf("read pods: %w", err)
	}
	for _, e := range entries {
		uid := types.UID(e.Name())
		var rec podRecord
		ok, err := readJSON(r.files.podFile(uid), &rec)
		if err != nil || !ok {
			r.cfg.Logger.Warn("dropping unreadable pod state", "uid", uid, "err", err)
			_ = os.RemoveAll(r.files.podDir(uid))
			continue
		}
		p := &podEntry{rec: rec, containers: map[string]*instance{}}
		r.pods[uid] = p
		for _, name := range r.files.containerNames(uid) {
			in := r.adoptInstance(uid, p.rec, name)
			switch {
			case in == nil:
			case name == pauseName:
				p.pause = in
			default:
				p.containers[name] = in
			}
		}
		r.cfg.Logger.Info("adopted pod", "pod", rec.Namespace+"/"+rec.Name, "ip", rec.IP)
	}
	return nil
}

func (r *Runtime) adoptInstance(uid types.UID, rec podRecord, name string) *instance {
	attempts := r.files.attempts(rec.UID, name)
	if len(attempts) == 0 {
		return nil
	}
	attempt := attempts[len(attempts)-1]
	dir := r.files.instanceDir(rec.UID, name, attempt)
	in := &instance{dir: dir, state: runtime.ContainerState{Name: name, Attempt: attempt}, exited: make(chan struct{})}
	if ok, _ := readJSON(dir+"/proc.json", &in.proc); !ok {
		return nil
	}
	in.cgroup = r.openCgroup(rec, name, attempt)
	in.state.StartedAt, in.state.ImageID = in.proc.StartedAt, in.proc.ImageID
	if r.cfg.Launcher.Alive(in.proc) {
		in.state.Running = true
		go r.watch(uid, in)
		return in
	}
	r.finish(in)
	return in
}

// Pod returns a snapshot of the pod.
func (r *Runtime) Pod(uid types.UID) (runtime.PodState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[uid]
	if !ok {
		return runtime.PodState{}, false
	}
	ip, _ := netip.ParseAddr(p.rec.IP)
	out := runtime.PodState{Sandbox: runtime.Sandbox{IP: ip, NetnsPath: p.rec.NetnsPath}}
	for _, in := range p.containers {
		out.Containers = append(out.Containers, in.state)
	}
	return out, true
}

// Pods returns the UIDs of every pod held.
func (r *Runtime) Pods() []types.UID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]types.UID, 0, len(r.pods))
	for uid := range r.pods {
		out = append(out, uid)
	}
	return out
}

// Events delivers pods whose containers exited.
func (r *Runtime) Events() <-chan types.UID { return r.events }

func (r *Runtime) notify(uid types.UID) {
	select {
	case r.events <- uid:
	default:
		r.cfg.Logger.Warn("runtime event dropped", "uid", uid)
	}
}
