// Package resourcequota is the resourcequota controller: it keeps each
// ResourceQuota's status, hard as the spec's and used as what the
// namespace's pods, services, configmaps, secrets, replication
// controllers and quotas add up to (internal/quota counts them), as
// kube-controller-manager's does. Like upstream's it recounts when a
// quota's spec changes, when usage can only have gone down (an object
// deleted, a pod finished or past its grace period, a service's type
// changed) and every resync period; what new objects add is charged by the
// API server's quota admission when they are created.
package resourcequota

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/quota"
)

// Name is the controller's name.
const Name = "resourcequota-controller"

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	Informer coreinformers.Interface
	// Resync is how often every quota is recounted (default 1m; upstream's
	// --resource-quota-sync-period is 5m).
	Resync time.Duration
	Logger *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Controller keeps quotas' status.
type Controller struct {
	cfg     Config
	quotas  corelisters.ResourceQuotaLister
	counted []counted
	runner  *controller.Runner
	synced  []cache.InformerSynced
}

// counted is one resource the controller counts, with its objects'
// informer.
type counted struct {
	gr       schema.GroupResource
	informer cache.SharedIndexInformer
}

// New builds the controller and registers its event handlers. Keys are
// namespace/name of quotas.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Resync == 0 {
		cfg.Resync = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	in := cfg.Informer
	c := &Controller{cfg: cfg, quotas: in.ResourceQuotas().Lister(), counted: []counted{
		{schema.GroupResource{Resource: "pods"}, in.Pods().Informer()},
		{schema.GroupResource{Resource: "services"}, in.Services().Informer()},
		{schema.GroupResource{Resource: "configmaps"}, in.ConfigMaps().Informer()},
		{schema.GroupResource{Resource: "secrets"}, in.Secrets().Informer()},
		{schema.GroupResource{Resource: "replicationcontrollers"}, in.ReplicationControllers().Informer()},
		{schema.GroupResource{Resource: "resourcequotas"}, in.ResourceQuotas().Informer()},
	}}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	for _, cd := range c.counted {
		c.synced = append(c.synced, cd.informer.HasSynced)
	}
	if _, err := in.ResourceQuotas().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.runner.EnqueueObject,
		UpdateFunc: func(old, cur any) {
			if specChanged(old.(*corev1.ResourceQuota), cur.(*corev1.ResourceQuota)) {
				c.runner.EnqueueObject(cur)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("resourcequota handlers: %w", err)
	}
	for _, cd := range c.counted {
		if _, err := cd.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(old, cur any) {
				if mayRelease(old, cur, cfg.Now()) {
					c.enqueueNamespaceOf(cur)
				}
			},
			DeleteFunc: c.enqueueNamespaceOf,
		}); err != nil {
			return nil, fmt.Errorf("resourcequota handlers: %w", err)
		}
	}
	return c, nil
}

// specChanged says whether a quota needs a recount: its hard limits or
// scopes changed, or its status.hard is not its spec's yet.
func specChanged(old, cur *corev1.ResourceQuota) bool {
	return !equality.Semantic.DeepEqual(old.Spec, cur.Spec) || !equality.Semantic.DeepEqual(cur.Spec.Hard, cur.Status.Hard)
}

// mayRelease says whether an update can lower usage: a pod that stops
// counting, a service whose type changes.
func mayRelease(old, cur any, now time.Time) bool {
	switch o := old.(type) {
	case *corev1.Pod:
		return quota.PodCounts(o, now) && !quota.PodCounts(cur.(*corev1.Pod), now) ||
			o.DeletionTimestamp == nil && cur.(*corev1.Pod).DeletionTimestamp != nil
	case *corev1.Service:
		return o.Spec.Type != cur.(*corev1.Service).Spec.Type
	}
	return false
}

func (c *Controller) enqueueNamespaceOf(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	qs, err := c.quotas.ResourceQuotas(m.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range qs {
		c.runner.EnqueueObject(q)
	}
}

// Run runs workers and the periodic recount until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	go c.resync(ctx)
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) resync(ctx context.Context) {
	t := time.NewTicker(c.cfg.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			qs, err := c.quotas.List(labels.Everything())
			if err != nil {
				continue
			}
			for _, q := range qs {
				c.runner.EnqueueObject(q)
			}
		}
	}
}

// sync recounts one quota and writes its status when it changed.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	want := c.Status(q)
	if equality.Semantic.DeepEqual(want, q.Status) {
		return nil
	}
	out := q.DeepCopy()
	out.Status = want
	_, err = c.cfg.Client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update resourcequota %s status: %w", key, err)
	}
	return nil
}

// Status is a quota's status as the objects in its namespace count now.
func (c *Controller) Status(q *corev1.ResourceQuota) corev1.ResourceQuotaStatus {
	used := corev1.ResourceList{}
	now := c.cfg.Now()
	for _, cd := range c.counted {
		var objs []runtime.Object
		err := cache.ListAllByNamespace(cd.informer.GetIndexer(), q.Namespace, labels.Everything(), func(o any) {
			if ro, ok := o.(runtime.Object); ok {
				objs = append(objs, ro)
			}
		})
		if err != nil {
			continue
		}
		for k, v := range quota.Used(q, cd.gr, objs, now) {
			used[k] = v
		}
	}
	return corev1.ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: used}
}
