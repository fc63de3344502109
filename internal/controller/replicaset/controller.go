// Package replicaset is the ReplicaSet controller, and over a Kind adapter
// also the ReplicationController one: it keeps as many pods as a
// ReplicaSet asks for, created from its template and owned through a
// controller reference, adopts matching orphans and releases pods that no
// longer match, and reports replica counts in the ReplicaSet's status.
//
// The decisions (which pods to delete, the status, claims) are plain
// functions of values; controller.go, handlers.go and sync.go are the
// informer and API plumbing around them.
package replicaset

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name, also the source of its events.
const Name = "replicaset-controller"

// defaultBurst caps the pods created or deleted in one sync, as upstream's
// BurstReplicas.
const defaultBurst = 500

// RCName is the name of the same controller over ReplicationControllers.
const RCName = "replication-controller"

// Config configures the controller.
type Config struct {
	Client kubernetes.Interface
	// ReplicaSets are kept unless Kind is set.
	ReplicaSets appsinformers.ReplicaSetInformer
	// Kind is the workload kept (ReplicationControllers); nil means
	// ReplicaSets.
	Kind Kind
	// Name names the controller in logs (default Name).
	Name     string
	Pods     coreinformers.PodInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// BurstReplicas caps creations or deletions per sync (default 500).
	BurstReplicas int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller is the ReplicaSet controller.
type Controller struct {
	cfg    Config
	kind   Kind
	pods   corelisters.PodLister
	exp    *Expectations
	runner *controller.Runner
	synced []cache.InformerSynced
	log    *slog.Logger
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BurstReplicas <= 0 {
		cfg.BurstReplicas = defaultBurst
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Kind == nil {
		cfg.Kind = ReplicaSets(cfg.Client, cfg.ReplicaSets)
	}
	if cfg.Name == "" {
		cfg.Name = Name
	}
	c := &Controller{
		cfg: cfg, kind: cfg.Kind, pods: cfg.Pods.Lister(),
		exp: NewExpectations(cfg.Now), log: cfg.Logger,
		synced: []cache.InformerSynced{cfg.Kind.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: cfg.Name, Sync: c.sync, Logger: cfg.Logger})
	if err := c.addHandlers(); err != nil {
		return nil, fmt.Errorf("replicaset controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) addHandlers() error {
	_, err := c.kind.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.runner.EnqueueObject,
		UpdateFunc: func(_, cur any) { c.runner.EnqueueObject(cur) },
		DeleteFunc: c.deleteRS,
	})
	if err != nil {
		return err
	}
	_, err = c.cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	return err
}
