// Package controller holds the plumbing every svcplane controller shares:
// event handlers only enqueue keys; workers call a sync function with each
// key and retry failures with rate-limited back-off. The controllers
// themselves live in subpackages, each a thin controller.go over a pure
// reconcile function.
package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// SyncFunc brings the world in line for one key. It reads listers, is
// idempotent, and treats a missing object as done.
type SyncFunc func(ctx context.Context, key string) error

// Runner feeds keys to a SyncFunc from a rate-limited work queue.
type Runner struct {
	name   string
	sync   SyncFunc
	queue  workqueue.TypedRateLimitingInterface[string]
	logger *slog.Logger
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Name names the controller in logs and the queue's metrics.
	Name string
	Sync SyncFunc
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// NewRunner returns a runner; Run starts its workers.
func NewRunner(cfg RunnerConfig) *Runner {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	q := workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: cfg.Name},
	)
	return &Runner{name: cfg.Name, sync: cfg.Sync, queue: q, logger: logger.With("controller", cfg.Name)}
}

// Enqueue adds a key.
func (r *Runner) Enqueue(key string) { r.queue.Add(key) }

// EnqueueAfter adds a key after d.
func (r *Runner) EnqueueAfter(key string, d time.Duration) { r.queue.AddAfter(key, d) }

// EnqueueObject adds the namespace/name key of an object, tombstones
// included.
func (r *Runner) EnqueueObject(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		runtime.HandleError(err)
		return
	}
	r.queue.Add(key)
}

// ObjectHandlers queue an object's own key on every add, update and
// delete: the handlers of the resource a controller is keyed by.
func (r *Runner) ObjectHandlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    r.EnqueueObject,
		UpdateFunc: func(_, cur any) { r.EnqueueObject(cur) },
		DeleteFunc: r.EnqueueObject,
	}
}

// Len returns the number of keys waiting.
func (r *Runner) Len() int { return r.queue.Len() }

// Run waits for the informers to sync, then runs workers until ctx ends.
func (r *Runner) Run(ctx context.Context, workers int, synced ...cache.InformerSynced) {
	defer r.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	r.logger.Info("controller started", "workers", workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	r.queue.ShutDown()
	wg.Wait()
}

func (r *Runner) next(ctx context.Context) bool {
	key, quit := r.queue.Get()
	if quit {
		return false
	}
	defer r.queue.Done(key)
	if err := r.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("sync failed, will retry", "key", key, "err", err, "retries", r.queue.NumRequeues(key))
		}
		r.queue.AddRateLimited(key)
		return true
	}
	r.queue.Forget(key)
	return true
}
