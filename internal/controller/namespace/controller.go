// Package namespace is the namespace controller: for a namespace being
// deleted (phase Terminating, the "kubernetes" finalizer in
// spec.finalizers) it deletes every namespaced object of every served
// resource, reports progress in the namespace's deletion conditions as
// upstream does, and once nothing is left removes the finalizer through
// the finalize subresource so that the API server lets the namespace go.
package namespace

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/controller/gc"
)

// Name is the controller's name.
const Name = "namespace-controller"

// Config configures the controller.
type Config struct {
	Client     kubernetes.Interface
	Discovery  discovery.DiscoveryInterface
	Dynamic    dynamic.Interface
	Namespaces coreinformers.NamespaceInformer
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller empties and finalizes deleted namespaces.
type Controller struct {
	cfg    Config
	lister corelisters.NamespaceLister
	runner *controller.Runner
	log    *slog.Logger
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{cfg: cfg, lister: cfg.Namespaces.Lister(), log: cfg.Logger}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	_, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur any) { c.enqueue(cur) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace controller handlers: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueue(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
		c.runner.Enqueue(ns.Name)
	}
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.cfg.Namespaces.Informer().HasSynced)
}

// sync deletes one terminating namespace's content, or finalizes it.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	outcome := c.deleteContent(ctx, name)
	if err := c.writeConditions(ctx, ns, Conditions(outcome)); err != nil {
		return err
	}
	if !outcome.Done() {
		c.runner.EnqueueAfter(name, RetryDelay(ns.DeletionTimestamp.Time, c.cfg.Now()))
		return nil
	}
	return c.finalize(ctx, name)
}

// deleteContent deletes every object of every namespaced resource in ns
// and counts what is left.
func (c *Controller) deleteContent(ctx context.Context, ns string) Outcome {
	out := Outcome{Remaining: map[string]int{}, Finalizers: map[string]int{}}
	resources, err := gc.Discover(c.cfg.Discovery)
	out.DiscoveryErr = err
	for _, r := range resources {
		if !r.Namespaced || !r.Has("list") || !(r.Has("delete") || r.Has("deletecollection")) {
			continue
		}
		if err := c.deleteAll(ctx, r, ns); err != nil {
			out.DeleteErrs = append(out.DeleteErrs, err)
		}
		items, err := c.cfg.Dynamic.Resource(r.GVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			out.DeleteErrs = append(out.DeleteErrs, err)
			continue
		}
		countLeft(&out, r, items.Items)
	}
	if len(out.Remaining) == 0 {
		out.Remaining, out.Finalizers = nil, nil
	}
	return out
}

func countLeft(out *Outcome, r gc.Resource, items []unstructured.Unstructured) {
	if len(items) == 0 {
		return
	}
	out.Remaining[r.GVR.Resource+"."+r.GVR.Group] = len(items)
	for _, item := range items {
		for _, f := range item.GetFinalizers() {
			out.Finalizers[f]++
		}
	}
}

// deleteAll deletes the resource's objects in ns, by collection when the
// resource allows it.
func (c *Controller) deleteAll(ctx context.Context, r gc.Resource, ns string) error {
	client := c.cfg.Dynamic.Resource(r.GVR).Namespace(ns)
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	if r.Has("deletecollection") {
		err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
		if err == nil || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			return nil
		}
		return fmt.Errorf("delete %s in %s: %w", r.GVR.GroupResource(), ns, err)
	}
	items, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list %s in %s: %w", r.GVR.GroupResource(), ns, err)
	}
	for _, item := range items.Items {
		if err := client.Delete(ctx, item.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s %s/%s: %w", r.GVR.GroupResource(), ns, item.GetName(), err)
		}
	}
	return nil
}

// writeConditions stores the deletion conditions when they changed.
func (c *Controller) writeConditions(ctx context.Context, ns *corev1.Namespace, want []corev1.NamespaceCondition) error {
	conds, changed := MergeConditions(ns.Status.Conditions, want, c.cfg.Now())
	if !changed {
		return nil
	}
	cp := ns.DeepCopy()
	cp.Status.Conditions = conds
	_, err := c.cfg.Client.CoreV1().Namespaces().UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// finalize removes the "kubernetes" finalizer from the live namespace.
func (c *Controller) finalize(ctx context.Context, name string) error {
	ns, err := c.cfg.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
	_, err = c.cfg.Client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finalize namespace %s: %w", name, err)
	}
	c.log.Info("namespace finalized", "namespace", name)
	return nil
}
