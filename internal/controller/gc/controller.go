// Package gc is the garbage collector: it keeps a graph of ownerReferences
// over every served resource and deletes dependents whose owners are all
// gone (background deletion), deletes an owner's dependents before the
// owner itself when it carries the foregroundDeletion finalizer, and
// drops the references to an owner deleted with the orphan finalizer
// before letting it go.
//
// Objects are seen through the shared typed informers of the served
// resources (found by discovery); writes go through the dynamic client.
// The decision for one object is Decide, a function of values.
package gc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "garbage-collector"

// ignored resources are never owners or dependents worth tracking.
var ignored = []schema.GroupResource{{Resource: "events"}, {Group: "events.k8s.io", Resource: "events"}}

// Config configures the collector.
type Config struct {
	Discovery discovery.DiscoveryInterface
	Dynamic   dynamic.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
}

// Controller is the garbage collector.
type Controller struct {
	cfg    Config
	graph  *Graph
	runner *controller.Runner
	log    *slog.Logger
	mu     sync.RWMutex
	mapper *Mapper
}

// New builds the collector; Run discovers what to watch.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Controller{cfg: cfg, graph: NewGraph(), log: cfg.Logger, mapper: NewMapper(nil)}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	return c
}

// Run discovers the served resources, watches them and collects until
// ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	resources, err := c.discover(ctx)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.mapper = NewMapper(resources)
	c.mu.Unlock()
	var synced []cache.InformerSynced
	for _, r := range resources {
		if s, ok := c.watch(r); ok {
			synced = append(synced, s)
		}
	}
	c.cfg.Informers.Start(ctx.Done())
	c.runner.Run(ctx, workers, synced...)
}

// discover retries discovery each second until it answers or ctx ends.
func (c *Controller) discover(ctx context.Context) ([]Resource, error) {
	for {
		resources, err := Discover(c.cfg.Discovery)
		if err == nil {
			return resources, nil
		}
		c.log.Warn("discovery failed, will retry", "controller", Name, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// watch adds the graph's handlers to the shared informer of r.
func (c *Controller) watch(r Resource) (cache.InformerSynced, bool) {
	if slices.Contains(ignored, r.GVR.GroupResource()) || !r.Has("list") || !r.Has("watch") || !r.Has("delete") {
		return nil, false
	}
	inf, err := c.cfg.Informers.ForResource(r.GVR)
	if err != nil {
		c.log.Debug("resource not collected", "resource", r.GVR.String(), "err", err)
		return nil, false
	}
	_, err = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.observe(r, obj) },
		UpdateFunc: func(_, cur any) { c.observe(r, cur) },
		DeleteFunc: c.forget,
	})
	if err != nil {
		c.log.Warn("resource not collected", "resource", r.GVR.String(), "err", err)
		return nil, false
	}
	return inf.Informer().HasSynced, true
}

// observe records an object and wakes what its change concerns.
func (c *Controller) observe(r Resource, obj any) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	n := nodeOf(r, m)
	old := c.graph.Upsert(n)
	if old == nil || !sameOwnership(old, n) {
		if len(n.Owners) > 0 || n.DeletingDependents() || n.Orphaning() {
			c.runner.Enqueue(string(n.UID))
		}
		c.wakeWaitingOwners(old)
	}
	c.wakeWaitingOwners(n)
	if n.DeletingDependents() && (old == nil || !old.DeletingDependents()) {
		for _, d := range c.graph.Dependents(n.UID) {
			c.runner.Enqueue(string(d.UID))
		}
	}
}

// forget drops a deleted object; its dependents may now be orphans.
func (c *Controller) forget(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	n := c.graph.Remove(m.GetUID())
	for _, d := range c.graph.Dependents(m.GetUID()) {
		c.runner.Enqueue(string(d.UID))
	}
	c.wakeWaitingOwners(n)
}

// wakeWaitingOwners queues the owners of n that wait for dependents.
func (c *Controller) wakeWaitingOwners(n *Node) {
	if n == nil {
		return
	}
	for _, ref := range n.Owners {
		if o := c.graph.Get(ref.UID); o != nil && o.DeletingDependents() {
			c.runner.Enqueue(string(o.UID))
		}
	}
}

// sameOwnership says whether nothing the collector acts on changed.
func sameOwnership(a, b *Node) bool {
	return a.Deleting == b.Deleting && slices.Equal(a.Finalizers, b.Finalizers) &&
		slices.EqualFunc(a.Owners, b.Owners, func(x, y metav1.OwnerReference) bool {
			return x.UID == y.UID && blocks(x) == blocks(y)
		})
}

func blocks(ref metav1.OwnerReference) bool {
	return ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion
}

// client is the dynamic client of one object.
func (c *Controller) client(n *Node) dynamic.ResourceInterface {
	r := c.cfg.Dynamic.Resource(n.Resource.GVR)
	if n.Resource.Namespaced {
		return r.Namespace(n.Namespace)
	}
	return r
}

func (c *Controller) ownerResource(n *Node, uid types.UID) (Resource, error) {
	ref, ok := n.ownerRef(uid)
	if !ok {
		return Resource{}, fmt.Errorf("no owner %s", uid)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mapper.ForOwner(ref)
}
