// Package deployment is the Deployment controller: a Deployment owns one
// ReplicaSet per pod template (named <deployment>-<pod-template-hash>),
// scales them for rolling updates within maxSurge and maxUnavailable or
// for Recreate, records revisions, trims old ReplicaSets past
// revisionHistoryLimit and reports status and conditions the way kubectl
// rollout status reads them.
//
// Plans (how many replicas each ReplicaSet gets, the status, the
// conditions, which history to drop) are plain functions of values; the
// rest of the package reads listers and writes through the API.
package deployment

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name, also the source of its events.
const Name = "deployment-controller"

// controllerKind is the kind that owns ReplicaSets.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// Config configures the controller.
type Config struct {
	Client      kubernetes.Interface
	Deployments appsinformers.DeploymentInformer
	ReplicaSets appsinformers.ReplicaSetInformer
	Pods        coreinformers.PodInformer
	Recorder    record.EventRecorder
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller is the Deployment controller.
type Controller struct {
	cfg      Config
	dLister  appslisters.DeploymentLister
	rsLister appslisters.ReplicaSetLister
	pods     corelisters.PodLister
	runner   *controller.Runner
	synced   []cache.InformerSynced
	log      *slog.Logger
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{
		cfg: cfg, dLister: cfg.Deployments.Lister(), rsLister: cfg.ReplicaSets.Lister(), pods: cfg.Pods.Lister(),
		log: cfg.Logger,
		synced: []cache.InformerSynced{cfg.Deployments.Informer().HasSynced,
			cfg.ReplicaSets.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if err := c.addHandlers(); err != nil {
		return nil, fmt.Errorf("deployment controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) addHandlers() error {
	_, err := c.cfg.Deployments.Informer().AddEventHandler(c.runner.ObjectHandlers())
	if err != nil {
		return err
	}
	_, err = c.cfg.ReplicaSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addRS,
		UpdateFunc: c.updateRS,
		DeleteFunc: c.deleteRS,
	})
	if err != nil {
		return err
	}
	_, err = c.cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.deletePod})
	return err
}
