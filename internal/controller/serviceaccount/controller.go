// Package serviceaccount is the serviceaccount controller: it keeps the
// `default` ServiceAccount in every active namespace, creating it when a
// namespace appears and again when it is deleted, as
// kube-controller-manager's does. Namespaces being deleted are left alone.
package serviceaccount

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "serviceaccount-controller"

// DefaultName is the ServiceAccount every namespace gets.
const DefaultName = "default"

// Config configures the controller.
type Config struct {
	Client          kubernetes.Interface
	Namespaces      coreinformers.NamespaceInformer
	ServiceAccounts coreinformers.ServiceAccountInformer
	Logger          *slog.Logger
	// Names are the ServiceAccounts kept in each namespace (default:
	// just "default").
	Names []string
}

// Controller keeps the default ServiceAccounts.
type Controller struct {
	cfg        Config
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	runner     *controller.Runner
	synced     []cache.InformerSynced
}

// New builds the controller and registers its event handlers. Keys are
// namespace names.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.Names) == 0 {
		cfg.Names = []string{DefaultName}
	}
	c := &Controller{
		cfg: cfg, namespaces: cfg.Namespaces.Lister(), accounts: cfg.ServiceAccounts.Lister(),
		synced: []cache.InformerSynced{cfg.Namespaces.Informer().HasSynced, cfg.ServiceAccounts.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	_, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNamespace,
		UpdateFunc: func(_, cur any) { c.enqueueNamespace(cur) },
	})
	if err != nil {
		return nil, fmt.Errorf("serviceaccount controller handlers: %w", err)
	}
	_, err = cfg.ServiceAccounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueueAccountNamespace})
	if err != nil {
		return nil, fmt.Errorf("serviceaccount controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.runner.Enqueue(ns.Name)
	}
}

func (c *Controller) enqueueAccountNamespace(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if sa, ok := obj.(*corev1.ServiceAccount); ok {
		c.runner.Enqueue(sa.Namespace)
	}
}

// sync creates the missing ServiceAccounts of one namespace.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var existing []string
	for _, n := range c.cfg.Names {
		if _, err := c.accounts.ServiceAccounts(name).Get(n); err == nil {
			existing = append(existing, n)
		}
	}
	for _, n := range Missing(ns, c.cfg.Names, existing) {
		if err := c.create(ctx, name, n); err != nil {
			return err
		}
	}
	return nil
}

// create makes one ServiceAccount; one that exists already, or a
// namespace that started terminating, is not an error.
func (c *Controller) create(ctx context.Context, ns, name string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := c.cfg.Client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	switch {
	case err == nil, apierrors.IsAlreadyExists(err), apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause),
		apierrors.IsNotFound(err):
		return nil
	}
	return fmt.Errorf("create serviceaccount %s/%s: %w", ns, name, err)
}

// Missing returns the names of want that ns lacks (existing are those it
// has), in want's order; none for a namespace that is not active.
func Missing(ns *corev1.Namespace, want, existing []string) []string {
	if ns.DeletionTimestamp != nil || (ns.Status.Phase != "" && ns.Status.Phase != corev1.NamespaceActive) {
		return nil
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	var out []string
	for _, n := range want {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}
