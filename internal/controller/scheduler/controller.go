// Package scheduler binds pods without a node to one: a Ready,
// schedulable node whose taints the pod tolerates, that matches its
// nodeSelector and required node affinity and has room for its requests,
// preferring the node with the fewest pods. A pod nothing fits stays
// Pending with PodScheduled=False (Unschedulable) and a FailedScheduling
// event worded as upstream's scheduler words it.
//
// Filtering and choosing are plain functions (filter.go, schedule.go);
// this file and sync.go are the informer and API plumbing.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	storageinformers "k8s.io/client-go/informers/storage/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the scheduler's name as pods name it in spec.schedulerName and
// as its events show it.
const Name = corev1.DefaultSchedulerName

// Config configures the scheduler.
type Config struct {
	Client   kubernetes.Interface
	Pods     coreinformers.PodInformer
	Nodes    coreinformers.NodeInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Claims, Volumes and Classes, when set, make the scheduler honour
	// the pods' claims as upstream's VolumeBinding plugin does: bound
	// volumes' node affinity, and WaitForFirstConsumer claims given the
	// chosen node (the selected-node annotation) before the pod is bound.
	Claims  coreinformers.PersistentVolumeClaimInformer
	Volumes coreinformers.PersistentVolumeInformer
	Classes storageinformers.StorageClassInformer
	// RetryPeriod is how soon an unschedulable pod is tried again when
	// nothing in the cluster changed (default one minute).
	RetryPeriod time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller is the scheduler.
type Controller struct {
	cfg   Config
	pods  corelisters.PodLister
	nodes corelisters.NodeLister
	// claims, volumes and classes are nil without Config.Claims.
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	runner  *controller.Runner
	synced  []cache.InformerSynced
	log     *slog.Logger
	// mu serializes choosing a node, so that each choice sees the last.
	mu sync.Mutex
	// assumed are pods bound here that the informer has not shown bound.
	assumed map[string]string
}

// New builds the scheduler and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RetryPeriod == 0 {
		cfg.RetryPeriod = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{
		cfg: cfg, pods: cfg.Pods.Lister(), nodes: cfg.Nodes.Lister(), log: cfg.Logger, assumed: map[string]string{},
		synced: []cache.InformerSynced{cfg.Pods.Informer().HasSynced, cfg.Nodes.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: "scheduler", Sync: c.sync, Logger: cfg.Logger})
	if err := c.addHandlers(); err != nil {
		return nil, fmt.Errorf("scheduler handlers: %w", err)
	}
	if cfg.Claims != nil {
		if err := c.addVolumeHandlers(); err != nil {
			return nil, fmt.Errorf("scheduler handlers: %w", err)
		}
	}
	return c, nil
}

// addVolumeHandlers watches claims, volumes and classes: a change may
// let a pending pod fit (a claim bound, a volume made).
func (c *Controller) addVolumeHandlers() error {
	c.claims, c.volumes, c.classes = c.cfg.Claims.Lister(), c.cfg.Volumes.Lister(), c.cfg.Classes.Lister()
	c.synced = append(c.synced, c.cfg.Claims.Informer().HasSynced, c.cfg.Volumes.Informer().HasSynced, c.cfg.Classes.Informer().HasSynced)
	h := cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { c.requeuePending() }, UpdateFunc: func(_, _ any) { c.requeuePending() },
	}
	for _, inf := range []cache.SharedIndexInformer{c.cfg.Claims.Informer(), c.cfg.Volumes.Informer(), c.cfg.Classes.Informer()} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
	}
	return nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) addHandlers() error {
	_, err := c.cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, cur any) { c.podChanged(cur) },
		DeleteFunc: c.podDeleted,
	})
	if err != nil {
		return err
	}
	_, err = c.cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { c.requeuePending() },
		UpdateFunc: func(old, cur any) {
			if schedulingChanged(old.(*corev1.Node), cur.(*corev1.Node)) {
				c.requeuePending()
			}
		},
	})
	return err
}

func (c *Controller) podChanged(obj any) {
	pod := obj.(*corev1.Pod)
	key := pod.Namespace + "/" + pod.Name
	if pod.Spec.NodeName != "" {
		c.forget(key)
		return
	}
	if needsScheduling(pod) {
		c.runner.Enqueue(key)
	}
}

// podDeleted frees what the pod held and tries pending pods again.
func (c *Controller) podDeleted(obj any) {
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
	c.forget(pod.Namespace + "/" + pod.Name)
	if pod.Spec.NodeName != "" {
		c.requeuePending()
	}
}

func (c *Controller) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.assumed, key)
}

// requeuePending queues every pod still waiting for a node.
func (c *Controller) requeuePending() {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return
	}
	for _, p := range pods {
		if needsScheduling(p) {
			c.runner.Enqueue(p.Namespace + "/" + p.Name)
		}
	}
}

// needsScheduling is a pod of ours with no node that is neither finished,
// being deleted nor gated.
func needsScheduling(p *corev1.Pod) bool {
	return p.Spec.NodeName == "" && p.Spec.SchedulerName == Name && p.DeletionTimestamp == nil &&
		len(p.Spec.SchedulingGates) == 0 && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// schedulingChanged says whether a node update may change where pods fit.
func schedulingChanged(old, cur *corev1.Node) bool {
	return !apiequality.Semantic.DeepEqual(old.Labels, cur.Labels) ||
		!apiequality.Semantic.DeepEqual(old.Spec.Taints, cur.Spec.Taints) ||
		old.Spec.Unschedulable != cur.Spec.Unschedulable || readyStatus(old) != readyStatus(cur) ||
		!apiequality.Semantic.DeepEqual(old.Status.Allocatable, cur.Status.Allocatable)
}
