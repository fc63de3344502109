// Package agent is svcplane's node agent, the part that plays the
// kubelet's role: it registers its Node and keeps its Lease, and runs the
// pods bound to the node through a runtime.Runtime (network namespaces
// and processes, or a simulation), reporting their status through the
// API. Each pod has a worker goroutine that compares the pod's spec with
// the runtime's state, acts (sandbox, start, restart with back-off, probe
// driven kills, graceful termination) and writes the status it computes.
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/agent/images"
	agentruntime "github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/agent/volumes"
)

// Config configures an agent.
type Config struct {
	Client   kubernetes.Interface
	NodeName string
	// NodeIP is the node's InternalIP.
	NodeIP netip.Addr
	// Port is where the agent's HTTPS server (logs, exec) listens, as
	// reported in the node's daemon endpoints.
	Port int32
	// PodCIDR, when valid, is used at once (and written to the Node when
	// it has none); otherwise the agent waits for the node IPAM controller
	// to set spec.podCIDR, and uses PodCIDRFallback after PodCIDRWait.
	PodCIDR         netip.Prefix
	PodCIDRFallback netip.Prefix
	PodCIDRWait     time.Duration
	// NewRuntime builds the runtime once the pod CIDR is known.
	NewRuntime func(podCIDR netip.Prefix) (agentruntime.Runtime, error)
	// RuntimeName is reported as the container runtime version.
	RuntimeName string
	// Images resolves containers; ProbesEnabled runs probes (off for the
	// simulated runtime, whose containers always pass). QuietStarts
	// records no events for containers that start normally (at scale
	// they would be most of the API writes).
	Images *images.Resolver
	// Self is the svcplane binary, bound into built-in images' containers.
	Self string
	// Leases keeps imported images a container uses from being removed
	// under it; nil for none.
	Leases ImageLeases
	// NodeImages lists the images the node holds (status.images); nil
	// for none.
	NodeImages    func() []corev1.ContainerImage
	ProbesEnabled bool
	QuietStarts   bool
	// VolumeRoot keeps the pods' volumes (a directory per pod); empty
	// for a runtime that mounts none.
	VolumeRoot string
	// ClusterDNS and ClusterDomain make pods' resolv.conf.
	ClusterDNS    []string
	ClusterDomain string
	MaxPods       int
	Labels        map[string]string
	// LeaseDuration is what the node's Lease says it is good for (40s,
	// kubelet's nodeLeaseDurationSeconds); LeaseRenew spaces renewals (a
	// quarter of it, as kubelet's). Resync is the periodic sync of every
	// pod (10s).
	LeaseDuration time.Duration
	LeaseRenew    time.Duration
	Resync        time.Duration
	// StaticPodLogs returns the log file of a static pod by its mirror
	// pod's name ("" for none); mirror pods are not run by the agent.
	StaticPodLogs func(mirrorName string) string
	// Recorder records events; one writing to the API if nil.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	Now      func() time.Time
}

func (c Config) withDefaults() Config {
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 40 * time.Second
	}
	if c.LeaseRenew == 0 {
		c.LeaseRenew = c.LeaseDuration / 4
	}
	if c.Resync == 0 {
		c.Resync = 10 * time.Second
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = "cluster.local"
	}
	if c.MaxPods == 0 {
		c.MaxPods = 110
	}
	if c.PodCIDRWait == 0 {
		c.PodCIDRWait = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Agent runs one node.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	info     nodeInfo
	rt       agentruntime.Runtime
	recorder record.EventRecorder
	services corelisters.ServiceLister
	pods     *podManager
	podStore cache.Store
	volumes  *volumes.Manager
	ready    chan struct{}
}

// New returns an agent; Run starts it.
func New(cfg Config) *Agent {
	cfg = cfg.withDefaults()
	a := &Agent{cfg: cfg, log: cfg.Logger, recorder: cfg.Recorder, ready: make(chan struct{})}
	a.info = nodeInfo{Name: cfg.NodeName, IP: cfg.NodeIP, Port: cfg.Port, MaxPods: cfg.MaxPods,
		CPUs: runtime.NumCPU(), MemoryBytes: MemoryBytes(), Runtime: "svcplane://" + cfg.RuntimeName, Labels: cfg.Labels}
	a.volumes = newVolumes(cfg, a)
	return a
}

func (a *Agent) now() time.Time { return a.cfg.Now() }

// Runtime returns the runtime once Ready has closed.
func (a *Agent) Runtime() agentruntime.Runtime { return a.rt }

// Ready closes once the agent runs pods.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Run registers the node and runs its pods until ctx ends. Pods keep
// running after it returns; a new agent adopts them.
func (a *Agent) Run(ctx context.Context) error {
	node, err := a.registerNode(ctx)
	if err != nil {
		return err
	}
	go a.heartbeat(ctx, node)
	if a.recorder == nil {
		a.recorder = newRecorder(ctx, a.cfg.Client, a.cfg.NodeName)
	}
	cidr, err := a.podCIDR(ctx)
	if err != nil {
		return err
	}
	a.log.Info("pod CIDR", "cidr", cidr)
	if a.rt, err = a.cfg.NewRuntime(cidr); err != nil {
		return fmt.Errorf("start runtime: %w", err)
	}
	return a.runPods(ctx)
}

// runPods watches the pods bound to the node (and the Services, for
// their variables) and hands them to the pod workers.
func (a *Agent) runPods(ctx context.Context) error {
	all := informers.NewSharedInformerFactory(a.cfg.Client, 0)
	a.services = all.Core().V1().Services().Lister()
	mine := informers.NewSharedInformerFactoryWithOptions(a.cfg.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "spec.nodeName=" + a.cfg.NodeName
	}))
	podInformer := mine.Core().V1().Pods().Informer()
	a.podStore = podInformer.GetStore()
	a.pods = newPodManager(ctx, a)
	if _, err := podInformer.AddEventHandler(a.pods.handler()); err != nil {
		return err
	}
	all.Start(ctx.Done())
	mine.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.HasSynced, all.Core().V1().Services().Informer().HasSynced) {
		return ctx.Err()
	}
	a.pods.removeOrphans(ctx, podInformer.GetStore().List())
	close(a.ready)
	a.log.Info("agent running pods", "node", a.cfg.NodeName)
	go a.pods.runtimeEvents(ctx)
	<-ctx.Done()
	all.Shutdown()
	mine.Shutdown()
	return nil
}

// services returns every Service, for the variables of pods.
func (a *Agent) allServices() []*corev1.Service {
	svcs, _ := a.services.List(labels.Everything())
	return svcs
}

// LookupPod returns a pod bound to the node, once the agent runs pods.
func (a *Agent) LookupPod(namespace, name string) (*corev1.Pod, bool) {
	select {
	case <-a.ready:
	default:
		return nil, false
	}
	obj, ok, err := a.podStore.GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil, false
	}
	return obj.(*corev1.Pod), true
}

// Streamer returns the runtime's logs, exec and attach.
func (a *Agent) Streamer() (agentruntime.Streamer, bool) {
	select {
	case <-a.ready:
	default:
		return nil, false
	}
	s, ok := a.rt.(agentruntime.Streamer)
	if !ok {
		return nil, false
	}
	return mirrorStreamer{Streamer: s, a: a}, true
}
