// Package endpointslice is the EndpointSlice controller: every Service
// with a selector (and not of type ExternalName) gets EndpointSlices
// listing its pods with their conditions (ready, serving, terminating),
// node, zone and hostname, at most MaxEndpointsPerSlice endpoints each,
// labelled kubernetes.io/service-name and managed-by
// endpointslice-controller.k8s.io and owned by the Service, as
// Kubernetes' EndpointSlice controller keeps them.
//
// controller.go turns informer events into Service keys; sync.go reads
// the listers and applies a plan; reconcile.go and portmap.go compute the
// plan from plain values.
package endpointslice

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// Name names the controller (logs, events).
const Name = "endpointslice-controller"

// sliceChangeDelay spaces the syncs that changes made by others to the
// controller's slices cause, as upstream does.
const sliceChangeDelay = time.Second

// Config configures a Controller.
type Config struct {
	Client kubernetes.Interface
	// Informers is the shared factory the controller registers with; the
	// caller starts it.
	Informers informers.SharedInformerFactory
	// MaxEndpointsPerSlice caps the endpoints of one slice (1-1000,
	// default 100).
	MaxEndpointsPerSlice int
	// Recorder receives the controller's events.
	Recorder record.EventRecorder
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Workers syncing Services in parallel (default 5).
	Workers int
}

// Controller keeps EndpointSlices in line with Services and their pods.
type Controller struct {
	client     kubernetes.Interface
	recorder   record.EventRecorder
	logger     *slog.Logger
	workers    int
	max        int
	services   corelisters.ServiceLister
	pods       corelisters.PodLister
	podIndex   cache.Indexer
	candidates endpointutil.ServiceLister
	nodes      corelisters.NodeLister
	slices     cache.Indexer
	synced     []cache.InformerSynced
	runner     *controller.Runner
	triggers   *endpointutil.TriggerTimeTracker
	tracker    *endpointutil.SliceTracker
	waiting    *nodeWaiters
}

// New registers the controller's handlers with the informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.complete(); err != nil {
		return nil, fmt.Errorf("endpointslice controller: %w", err)
	}
	f := cfg.Informers
	c := &Controller{
		client: cfg.Client, recorder: cfg.Recorder, logger: cfg.Logger.With("controller", Name),
		workers: cfg.Workers, max: cfg.MaxEndpointsPerSlice,
		services: f.Core().V1().Services().Lister(), pods: f.Core().V1().Pods().Lister(),
		podIndex:   f.Core().V1().Pods().Informer().GetIndexer(),
		candidates: endpointutil.ServiceCandidatesFrom(f.Core().V1().Services().Informer().GetIndexer()),
		nodes:      f.Core().V1().Nodes().Lister(), slices: f.Discovery().V1().EndpointSlices().Informer().GetIndexer(),
		triggers: endpointutil.NewTriggerTimeTracker(), tracker: endpointutil.NewSliceTracker(),
		waiting: newNodeWaiters(),
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if err := endpointutil.AddIndexes(f.Core().V1().Pods().Informer(), f.Core().V1().Services().Informer()); err != nil {
		return nil, fmt.Errorf("endpointslice controller: %w", err)
	}
	if err := endpointutil.AddSliceIndex(f.Discovery().V1().EndpointSlices().Informer()); err != nil {
		return nil, fmt.Errorf("endpointslice controller: %w", err)
	}
	if err := c.addHandlers(f); err != nil {
		return nil, fmt.Errorf("endpointslice controller: %w", err)
	}
	return c, nil
}

func (cfg *Config) complete() error {
	if cfg.Client == nil || cfg.Informers == nil || cfg.Recorder == nil {
		return fmt.Errorf("Client, Informers and Recorder are required")
	}
	if cfg.MaxEndpointsPerSlice == 0 {
		cfg.MaxEndpointsPerSlice = 100
	}
	if cfg.MaxEndpointsPerSlice < 1 || cfg.MaxEndpointsPerSlice > 1000 {
		return fmt.Errorf("max endpoints per slice must be 1-1000, not %d", cfg.MaxEndpointsPerSlice)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	return nil
}

func (c *Controller) addHandlers(f informers.SharedInformerFactory) error {
	handlers := []struct {
		informer cache.SharedIndexInformer
		funcs    cache.ResourceEventHandlerFuncs
	}{
		{f.Core().V1().Services().Informer(), c.runner.ObjectHandlers()},
		{f.Core().V1().Pods().Informer(), c.podHandlers().Funcs()},
		{f.Discovery().V1().EndpointSlices().Informer(), endpointutil.SliceHandlers{
			ManagedBy: ManagedBy, Tracker: c.tracker, Enqueue: c.queueForSlice,
		}.Funcs()},
		{f.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.onNodeAdd, UpdateFunc: c.onNodeUpdate,
		}},
	}
	for _, h := range handlers {
		reg, err := h.informer.AddEventHandler(h.funcs)
		if err != nil {
			return err
		}
		c.synced = append(c.synced, reg.HasSynced)
	}
	return nil
}

// Run syncs until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	c.runner.Run(ctx, c.workers, c.synced...)
}

func (c *Controller) queueForSlice(s *discoveryv1.EndpointSlice) {
	if key := endpointutil.ServiceKey(s); key != "" {
		c.runner.EnqueueAfter(key, sliceChangeDelay)
	}
}

// podHandlers queue the Services that select a pod when it changes.
func (c *Controller) podHandlers() endpointutil.PodHandlers {
	return endpointutil.PodHandlers{Candidates: c.candidates, Enqueue: c.runner.Enqueue, Logger: c.logger}
}
