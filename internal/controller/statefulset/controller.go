// Package statefulset is the StatefulSet controller: pods named
// <set>-<ordinal> with stable hostnames under the set's headless Service
// (hostname and subdomain), created in ordinal order and each only once
// the previous one is Running and Ready (OrderedReady) or all at once
// (Parallel), removed from the highest ordinal on scale down, updated
// from the highest ordinal down to the partition (RollingUpdate) or when
// the user deletes them (OnDelete), each template recorded as a
// ControllerRevision. volumeClaimTemplates become claims named
// <template>-<set>-<ordinal>, created before the pod that mounts them.
//
// The decisions are plain functions of values (plan.go, identity.go);
// controller.go and sync.go are the plumbing.
package statefulset

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/controller/replicaset"
)

// Name is the controller's name, also the source of its events.
const Name = "statefulset-controller"

// Config configures the controller.
type Config struct {
	Client       kubernetes.Interface
	StatefulSets appsinformers.StatefulSetInformer
	Revisions    appsinformers.ControllerRevisionInformer
	Pods         coreinformers.PodInformer
	Recorder     record.EventRecorder
	Logger       *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller is the StatefulSet controller.
type Controller struct {
	cfg       Config
	sets      appslisters.StatefulSetLister
	revisions appslisters.ControllerRevisionLister
	pods      corelisters.PodLister
	runner    *controller.Runner
	synced    []cache.InformerSynced
	log       *slog.Logger
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
		cfg: cfg, sets: cfg.StatefulSets.Lister(), revisions: cfg.Revisions.Lister(), pods: cfg.Pods.Lister(), log: cfg.Logger,
		synced: []cache.InformerSynced{cfg.StatefulSets.Informer().HasSynced, cfg.Revisions.Informer().HasSynced,
			cfg.Pods.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if _, err := cfg.StatefulSets.Informer().AddEventHandler(c.runner.ObjectHandlers()); err != nil {
		return nil, fmt.Errorf("statefulset controller handlers: %w", err)
	}
	_, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.enqueueOwner,
	})
	if err != nil {
		return nil, fmt.Errorf("statefulset controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) updatePod(old, cur any) {
	o, p := old.(*corev1.Pod), cur.(*corev1.Pod)
	if o.ResourceVersion == p.ResourceVersion {
		return
	}
	c.enqueueOwner(p)
	if set := c.owner(p); set != nil && set.Spec.MinReadySeconds > 0 && !replicaset.IsPodReady(o) && replicaset.IsPodReady(p) {
		c.runner.EnqueueAfter(set.Namespace+"/"+set.Name, time.Duration(set.Spec.MinReadySeconds)*time.Second+time.Second)
	}
}

func (c *Controller) enqueueOwner(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	if set := c.owner(pod); set != nil {
		c.runner.Enqueue(set.Namespace + "/" + set.Name)
	}
}

func (c *Controller) owner(pod *corev1.Pod) *appsv1.StatefulSet {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "StatefulSet" {
		return nil
	}
	set, err := c.sets.StatefulSets(pod.Namespace).Get(ref.Name)
	if err != nil || set.UID != ref.UID {
		return nil
	}
	return set
}
