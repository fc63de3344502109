// Package objcache keeps every object of one resource in memory, as a
// client-go informer does, for decisions the API server takes on each
// request (authorization reads RBAC objects, the Node authorizer reads
// pods): one list from storage, then the events of the resource's watch
// cache. Reads never touch storage.
package objcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/watchcache"
)

// Config is where a cache reads its resource.
type Config struct {
	Store  *objstore.Store
	Watch  *watchcache.Cacher
	Logger *slog.Logger
	// OnChange, when set, is called after each change with the object's
	// previous state (nil when added) and new state (nil when deleted).
	OnChange func(old, obj runtime.Object)
}

// Cache holds one resource's objects by namespace and name.
type Cache struct {
	cfg    Config
	synced chan struct{}
	once   sync.Once

	mu   sync.RWMutex
	objs map[string]map[string]runtime.Object
}

// New returns a cache; Run fills it.
func New(cfg Config) *Cache {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Cache{cfg: cfg, synced: make(chan struct{}), objs: map[string]map[string]runtime.Object{}}
}

// Synced closes once the first list is in.
func (c *Cache) Synced() <-chan struct{} { return c.synced }

// WaitSynced waits for the first list, or ctx's end (false).
func (c *Cache) WaitSynced(ctx context.Context) bool {
	select {
	case <-c.synced:
		return true
	case <-ctx.Done():
		return false
	}
}

// Get returns an object, shared: not to be modified.
func (c *Cache) Get(namespace, name string) (runtime.Object, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	obj, ok := c.objs[namespace][name]
	return obj, ok
}

// List returns the objects of a namespace ("" for cluster-scoped ones),
// shared: not to be modified.
func (c *Cache) List(namespace string) []runtime.Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m := c.objs[namespace]
	out := make([]runtime.Object, 0, len(m))
	for _, obj := range m {
		out = append(out, obj)
	}
	return out
}

// Run lists and follows the resource until ctx ends, listing again after a
// watch error.
func (c *Cache) Run(ctx context.Context) {
	for ctx.Err() == nil {
		rev, err := c.relist(ctx)
		if err != nil {
			c.cfg.Logger.Error("object cache: list", "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		c.once.Do(func() { close(c.synced) })
		c.follow(ctx, rev)
	}
}

func (c *Cache) relist(ctx context.Context) (int64, error) {
	res, err := c.cfg.Store.List(ctx, objstore.ListOptions{})
	if err != nil {
		return 0, err
	}
	objs := map[string]map[string]runtime.Object{}
	for _, obj := range res.Items {
		ns, name := keyOf(obj)
		if objs[ns] == nil {
			objs[ns] = map[string]runtime.Object{}
		}
		objs[ns][name] = obj
	}
	c.mu.Lock()
	old := c.objs
	c.objs = objs
	c.mu.Unlock()
	c.notifyRelist(old, objs)
	return res.Revision, nil
}

// follow applies watch events from rev until the watch fails; a watch
// that just ends (a slow reader, a reset) resumes from the last revision.
func (c *Cache) follow(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		w, err := c.cfg.Watch.Watch(ctx, watchcache.WatchOptions{From: rev})
		if err != nil {
			return
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Error:
				w.Stop()
				return
			case watch.Added, watch.Modified, watch.Deleted:
				c.apply(ev)
				rev = ev.Revision
			}
		}
		w.Stop()
	}
}

func (c *Cache) apply(ev *watchcache.Event) {
	ns, name := keyOf(ev.Object)
	c.mu.Lock()
	old := c.objs[ns][name]
	var obj runtime.Object
	if ev.Type == watch.Deleted {
		delete(c.objs[ns], name)
	} else {
		if c.objs[ns] == nil {
			c.objs[ns] = map[string]runtime.Object{}
		}
		c.objs[ns][name] = ev.Object
		obj = ev.Object
	}
	c.mu.Unlock()
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(old, obj)
	}
}

// notifyRelist reports the difference between two full lists.
func (c *Cache) notifyRelist(old, cur map[string]map[string]runtime.Object) {
	if c.cfg.OnChange == nil {
		return
	}
	for ns, m := range cur {
		for name, obj := range m {
			c.cfg.OnChange(old[ns][name], obj)
		}
	}
	for ns, m := range old {
		for name, obj := range m {
			if _, ok := cur[ns][name]; !ok {
				c.cfg.OnChange(obj, nil)
			}
		}
	}
}

func keyOf(obj runtime.Object) (string, string) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", ""
	}
	return m.GetNamespace(), m.GetName()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
