// Package mirroring is the EndpointSlice mirroring controller: Endpoints
// written by hand for a Service without a selector are mirrored into
// EndpointSlices (managed-by endpointslicemirroring-controller.k8s.io,
// owned by the Endpoints), updated with them and deleted with them or
// their Service, as Kubernetes' endpointslicemirroring controller does.
// Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true are left
// alone.
//
// controller.go turns informer events into Endpoints keys; sync.go reads
// the listers and applies a plan; reconcile.go computes it.
package mirroring

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// Name names the controller (logs, events).
const Name = "endpointslicemirroring-controller"

// Config configures a Controller.
type Config struct {
	Client kubernetes.Interface
	// Informers is the shared factory the controller registers with; the
	// caller starts it.
	Informers informers.SharedInformerFactory
	// MaxEndpointsPerSubset caps the addresses mirrored from one subset
	// (default 1000, upstream's --mirroring-max-endpoints-per-subset).
	MaxEndpointsPerSubset int
	// Recorder receives the controller's events.
	Recorder record.EventRecorder
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Workers syncing Endpoints in parallel (default 5).
	Workers int
}

// Controller mirrors Endpoints into EndpointSlices.
type Controller struct {
	client    kubernetes.Interface
	recorder  record.EventRecorder
	logger    *slog.Logger
	workers   int
	max       int
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	slices    cache.Indexer
	synced    []cache.InformerSynced
	runner    *controller.Runner
	tracker   *endpointutil.SliceTracker
}

// New registers the controller's handlers with the informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil || cfg.Recorder == nil {
		return nil, fmt.Errorf("mirroring controller: Client, Informers and Recorder are required")
	}
	if cfg.MaxEndpointsPerSubset <= 0 {
		cfg.MaxEndpointsPerSubset = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	f := cfg.Informers
	c := &Controller{
		client: cfg.Client, recorder: cfg.Recorder, logger: cfg.Logger.With("controller", Name),
		workers: cfg.Workers, max: cfg.MaxEndpointsPerSubset,
		services: f.Core().V1().Services().Lister(), endpoints: f.Core().V1().Endpoints().Lister(),
		slices: f.Discovery().V1().EndpointSlices().Informer().GetIndexer(), tracker: endpointutil.NewSliceTracker(),
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if err := endpointutil.AddSliceIndex(f.Discovery().V1().EndpointSlices().Informer()); err != nil {
		return nil, fmt.Errorf("mirroring controller: %w", err)
	}
	if err := c.addHandlers(f); err != nil {
		return nil, fmt.Errorf("mirroring controller: %w", err)
	}
	return c, nil
}

func (c *Controller) addHandlers(f informers.SharedInformerFactory) error {
	handlers := []struct {
		informer cache.SharedIndexInformer
		funcs    cache.ResourceEventHandlerFuncs
	}{
		{f.Core().V1().Services().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.onService, UpdateFunc: c.onServiceUpdate, DeleteFunc: c.onService,
		}},
		{f.Core().V1().Endpoints().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.onEndpoints, UpdateFunc: c.onEndpointsUpdate, DeleteFunc: c.onEndpoints,
		}},
		{f.Discovery().V1().EndpointSlices().Informer(), endpointutil.SliceHandlers{
			ManagedBy: ManagedBy, Tracker: c.tracker, Enqueue: c.queueForSlice,
		}.Funcs()},
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

// shouldMirror reports whether an Endpoints may be mirrored at all (its
// Service is checked in sync).
func shouldMirror(ep *corev1.Endpoints) bool {
	if ep.Labels[discoveryv1.LabelSkipMirror] == "true" {
		return false
	}
	_, leader := ep.Annotations[resourcelock.LeaderElectionRecordAnnotationKey]
	return !leader
}

func unwrap(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

// onService queues the Endpoints of a selector-less Service that came or
// went.
func (c *Controller) onService(obj any) {
	if svc, ok := unwrap(obj).(*corev1.Service); ok && svc.Spec.Selector == nil {
		c.runner.Enqueue(svc.Namespace + "/" + svc.Name)
	}
}

func (c *Controller) onServiceUpdate(old, cur any) {
	prev, ok1 := old.(*corev1.Service)
	svc, ok2 := cur.(*corev1.Service)
	if ok1 && ok2 && (prev.Spec.Selector == nil) != (svc.Spec.Selector == nil) {
		c.runner.Enqueue(svc.Namespace + "/" + svc.Name)
	}
}

func (c *Controller) onEndpoints(obj any) {
	if ep, ok := unwrap(obj).(*corev1.Endpoints); ok && shouldMirror(ep) {
		c.runner.Enqueue(ep.Namespace + "/" + ep.Name)
	}
}

func (c *Controller) onEndpointsUpdate(old, cur any) {
	prev, ok1 := old.(*corev1.Endpoints)
	ep, ok2 := cur.(*corev1.Endpoints)
	if ok1 && ok2 && (shouldMirror(prev) || shouldMirror(ep)) {
		c.runner.Enqueue(ep.Namespace + "/" + ep.Name)
	}
}

func (c *Controller) queueForSlice(s *discoveryv1.EndpointSlice) {
	if key := endpointutil.ServiceKey(s); key != "" {
		c.runner.Enqueue(key)
	}
}
