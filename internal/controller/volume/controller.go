// Package volume is the PersistentVolume controller: it binds claims to
// matching volumes (capacity, access modes, class, volume mode, selector
// and, for WaitForFirstConsumer classes, the node the scheduler chose),
// keeps the claims' and volumes' phases (Pending, Available, Bound,
// Released, Failed, Lost), reclaims released volumes (Retain keeps them,
// Delete removes them through their provisioner), removes the
// pvc-protection and pv-protection finalizers once nothing uses the
// object, and provisions for the local-path class as k3s's local-path
// provisioner does (see localpath.go).
//
// The decisions are plain functions (match.go, decide.go); controller.go
// and sync.go are the plumbing.
package volume

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	corev1 "k8s.io/api/core/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	storageinformers "k8s.io/client-go/informers/storage/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name, also the source of its events.
const Name = "persistentvolume-controller"

// Config configures the controller.
type Config struct {
	Client  kubernetes.Interface
	Volumes coreinformers.PersistentVolumeInformer
	Claims  coreinformers.PersistentVolumeClaimInformer
	Classes storageinformers.StorageClassInformer
	Pods    coreinformers.PodInformer
	Nodes   coreinformers.NodeInformer
	// Recorder reports as the PV controller; ProvisionerRecorder as the
	// local-path provisioner.
	Recorder            record.EventRecorder
	ProvisionerRecorder record.EventRecorder
	// LocalPath configures the local-path provisioner.
	LocalPath LocalPathConfig
	Logger    *slog.Logger
}

// Controller is the PersistentVolume controller.
type Controller struct {
	cfg     Config
	volumes corelisters.PersistentVolumeLister
	claims  corelisters.PersistentVolumeClaimLister
	classes storagelisters.StorageClassLister
	pods    corelisters.PodLister
	nodes   corelisters.NodeLister
	runner  *controller.Runner
	synced  []cache.InformerSynced
	log     *slog.Logger
}

// Keys of the queue: a claim is "claim/<ns>/<name>", a volume
// "volume/<name>".
const (
	claimPrefix  = "claim/"
	volumePrefix = "volume/"
)

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ProvisionerRecorder == nil {
		cfg.ProvisionerRecorder = cfg.Recorder
	}
	cfg.LocalPath.defaults()
	c := &Controller{cfg: cfg, volumes: cfg.Volumes.Lister(), claims: cfg.Claims.Lister(), classes: cfg.Classes.Lister(),
		pods: cfg.Pods.Lister(), nodes: cfg.Nodes.Lister(), log: cfg.Logger}
	c.synced = []cache.InformerSynced{cfg.Volumes.Informer().HasSynced, cfg.Claims.Informer().HasSynced,
		cfg.Classes.Informer().HasSynced, cfg.Pods.Informer().HasSynced, cfg.Nodes.Informer().HasSynced}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	for _, h := range []struct {
		inf cache.SharedIndexInformer
		fn  func(any)
	}{
		{cfg.Volumes.Informer(), c.volumeChanged}, {cfg.Claims.Informer(), c.claimChanged},
		{cfg.Pods.Informer(), c.podChanged}, {cfg.Classes.Informer(), func(any) { c.requeueClaims() }},
	} {
		fn := h.fn
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: fn, UpdateFunc: func(_, cur any) { fn(cur) }, DeleteFunc: fn,
		}); err != nil {
			return nil, fmt.Errorf("volume controller handlers: %w", err)
		}
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func unwrap(obj any) any {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tomb.Obj
	}
	return obj
}

func (c *Controller) volumeChanged(obj any) {
	pv, ok := unwrap(obj).(*corev1.PersistentVolume)
	if !ok {
		return
	}
	c.runner.Enqueue(volumePrefix + pv.Name)
	if ref := pv.Spec.ClaimRef; ref != nil {
		c.runner.Enqueue(claimPrefix + ref.Namespace + "/" + ref.Name)
	}
	if pv.Spec.ClaimRef == nil {
		c.requeueClaims() // a volume became free: pending claims may fit
	}
}

func (c *Controller) claimChanged(obj any) {
	claim, ok := unwrap(obj).(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	c.runner.Enqueue(claimPrefix + claim.Namespace + "/" + claim.Name)
	if claim.Spec.VolumeName != "" {
		c.runner.Enqueue(volumePrefix + claim.Spec.VolumeName)
	}
	for _, pv := range c.volumesOf(claim) {
		c.runner.Enqueue(volumePrefix + pv)
	}
}

// volumesOf names the volumes whose claimRef names the claim.
func (c *Controller) volumesOf(claim *corev1.PersistentVolumeClaim) []string {
	pvs, err := c.volumes.List(everything())
	if err != nil {
		return nil
	}
	var out []string
	for _, pv := range pvs {
		if ref := pv.Spec.ClaimRef; ref != nil && ref.Namespace == claim.Namespace && ref.Name == claim.Name {
			out = append(out, pv.Name)
		}
	}
	return out
}

// podChanged requeues the claims a pod uses (their protection waits for
// it) and, for a local-path helper pod, its volume.
func (c *Controller) podChanged(obj any) {
	pod, ok := unwrap(obj).(*corev1.Pod)
	if !ok {
		return
	}
	if pv, ok := strings.CutPrefix(pod.Name, helperPodPrefix); ok && pod.Namespace == c.cfg.LocalPath.Namespace {
		c.runner.Enqueue(volumePrefix + pv)
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			c.runner.Enqueue(claimPrefix + pod.Namespace + "/" + v.PersistentVolumeClaim.ClaimName)
		}
	}
}

// requeueClaims enqueues every pending claim.
func (c *Controller) requeueClaims() {
	claims, err := c.claims.List(everything())
	if err != nil {
		return
	}
	for _, claim := range claims {
		if claim.Status.Phase != corev1.ClaimBound {
			c.runner.Enqueue(claimPrefix + claim.Namespace + "/" + claim.Name)
		}
	}
}

// sync dispatches a key to the claim or volume sync.
func (c *Controller) sync(ctx context.Context, key string) error {
	if rest, ok := strings.CutPrefix(key, claimPrefix); ok {
		ns, name, _ := strings.Cut(rest, "/")
		return c.syncClaim(ctx, ns, name)
	}
	if name, ok := strings.CutPrefix(key, volumePrefix); ok {
		return c.syncVolume(ctx, name)
	}
	return nil
}
