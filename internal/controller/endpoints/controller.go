// Package endpoints is the Endpoints controller: every Service with a
// selector (and not of type ExternalName) gets an Endpoints object of the
// same name listing its pods, ready ones in addresses and the others in
// notReadyAddresses, as Kubernetes' endpoint controller does. The
// Endpoints of a deleted Service is deleted.
//
// controller.go turns informer events into Service keys; sync.go reads
// the listers and writes; reconcile.go is the pure computation.
package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
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
const Name = "endpoint-controller"

// Config configures a Controller.
type Config struct {
	Client kubernetes.Interface
	// Informers is the shared factory the controller registers with; the
	// caller starts it.
	Informers informers.SharedInformerFactory
	// Recorder receives the controller's events.
	Recorder record.EventRecorder
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Workers syncing Services in parallel (default 5).
	Workers int
}

// Controller keeps Endpoints in line with Services and their pods.
type Controller struct {
	client     kubernetes.Interface
	recorder   record.EventRecorder
	logger     *slog.Logger
	workers    int
	services   corelisters.ServiceLister
	pods       cache.Indexer
	endpoints  corelisters.EndpointsLister
	candidates endpointutil.ServiceLister
	synced     []cache.InformerSynced
	runner     *controller.Runner
	triggers   *endpointutil.TriggerTimeTracker
	stale      *staleTracker
}

// New registers the controller's handlers with the informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil || cfg.Recorder == nil {
		return nil, fmt.Errorf("endpoints controller: Client, Informers and Recorder are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	core := cfg.Informers.Core().V1()
	c := &Controller{
		client: cfg.Client, recorder: cfg.Recorder, logger: cfg.Logger.With("controller", Name), workers: cfg.Workers,
		services: core.Services().Lister(), pods: core.Pods().Informer().GetIndexer(), endpoints: core.Endpoints().Lister(),
		candidates: endpointutil.ServiceCandidatesFrom(core.Services().Informer().GetIndexer()),
		triggers:   endpointutil.NewTriggerTimeTracker(), stale: newStaleTracker(),
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if err := endpointutil.AddIndexes(core.Pods().Informer(), core.Services().Informer()); err != nil {
		return nil, fmt.Errorf("endpoints controller: %w", err)
	}
	if err := c.addHandlers(cfg.Informers); err != nil {
		return nil, fmt.Errorf("endpoints controller: %w", err)
	}
	return c, nil
}

func (c *Controller) addHandlers(f informers.SharedInformerFactory) error {
	core := f.Core().V1()
	handlers := []struct {
		informer cache.SharedIndexInformer
		funcs    cache.ResourceEventHandlerFuncs
	}{
		{core.Services().Informer(), c.runner.ObjectHandlers()},
		{core.Pods().Informer(), c.podHandlers().Funcs()},
		{core.Endpoints().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.onEndpointsAdd, DeleteFunc: c.onEndpointsDelete,
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

// Run syncs until ctx ends. At start it queues every Endpoints once, so
// those left behind by Services deleted while it was down are removed.
func (c *Controller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if cache.WaitForCacheSync(ctx.Done(), c.synced...) {
			c.queueLeftovers()
		}
	})
	c.runner.Run(ctx, c.workers, c.synced...)
	wg.Wait()
}

func (c *Controller) queueLeftovers() {
	list, err := c.endpoints.List(labels.Everything())
	if err != nil {
		c.logger.Warn("list endpoints for leftovers", "err", err)
		return
	}
	for _, ep := range list {
		if _, ok := ep.Annotations[resourcelock.LeaderElectionRecordAnnotationKey]; !ok {
			c.runner.Enqueue(ep.Namespace + "/" + ep.Name)
		}
	}
}

func (c *Controller) onEndpointsAdd(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.stale.seen(key)
	}
}

// onEndpointsDelete queues the Service so that Endpoints deleted by
// someone else come back.
func (c *Controller) onEndpointsDelete(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.stale.seen(key)
		c.runner.Enqueue(key)
	}
}

// podHandlers queue the Services that select a pod when it changes.
func (c *Controller) podHandlers() endpointutil.PodHandlers {
	return endpointutil.PodHandlers{Candidates: c.candidates, Enqueue: c.runner.Enqueue, Logger: c.logger}
}
