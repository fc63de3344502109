// Package daemonset is the DaemonSet controller: it keeps one pod of
// each DaemonSet on every node the pod's nodeSelector, required node
// affinity and tolerations (with the DaemonSet defaults) allow, replaces
// pods of old revisions with RollingUpdate (maxUnavailable or maxSurge)
// or leaves them for the user to delete with OnDelete, records each
// template as a ControllerRevision for rollout history and undo, and
// reports the status `kubectl rollout status ds` reads.
//
// Pods are created unbound with a required node affinity to their node's
// name, as upstream does; the scheduler binds them. The decisions
// (eligibility, plan, status) are plain functions of values in nodes.go,
// plan.go and status.go; controller.go and sync.go are the plumbing.
package daemonset

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
const Name = "daemonset-controller"

// Config configures the controller.
type Config struct {
	Client     kubernetes.Interface
	DaemonSets appsinformers.DaemonSetInformer
	Revisions  appsinformers.ControllerRevisionInformer
	Pods       coreinformers.PodInformer
	Nodes      coreinformers.NodeInformer
	Recorder   record.EventRecorder
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller is the DaemonSet controller.
type Controller struct {
	cfg       Config
	dsets     appslisters.DaemonSetLister
	revisions appslisters.ControllerRevisionLister
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	exp       *replicaset.Expectations
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
		cfg: cfg, dsets: cfg.DaemonSets.Lister(), revisions: cfg.Revisions.Lister(),
		pods: cfg.Pods.Lister(), nodes: cfg.Nodes.Lister(), exp: replicaset.NewExpectations(cfg.Now), log: cfg.Logger,
		synced: []cache.InformerSynced{cfg.DaemonSets.Informer().HasSynced, cfg.Revisions.Informer().HasSynced,
			cfg.Pods.Informer().HasSynced, cfg.Nodes.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if err := c.addHandlers(); err != nil {
		return nil, fmt.Errorf("daemonset controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) addHandlers() error {
	if _, err := c.cfg.DaemonSets.Informer().AddEventHandler(c.runner.ObjectHandlers()); err != nil {
		return err
	}
	if _, err := c.cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAll() },
		UpdateFunc: c.updateNode,
		DeleteFunc: func(any) { c.enqueueAll() },
	}); err != nil {
		return err
	}
	_, err := c.cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	return err
}

func (c *Controller) enqueueAll() {
	list, _ := c.dsets.List(labels.Everything())
	for _, ds := range list {
		c.runner.Enqueue(keyOf(ds))
	}
}

// updateNode wakes every DaemonSet when what decides eligibility changed.
func (c *Controller) updateNode(old, cur any) {
	o, n := old.(*corev1.Node), cur.(*corev1.Node)
	if o.ResourceVersion == n.ResourceVersion {
		return
	}
	if !labels.Equals(o.Labels, n.Labels) || !taintsEqual(o.Spec.Taints, n.Spec.Taints) || o.Spec.Unschedulable != n.Spec.Unschedulable {
		c.enqueueAll()
	}
}

func taintsEqual(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].MatchTaint(&b[i]) || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if ds := c.owner(pod); ds != nil {
		key := keyOf(ds)
		c.exp.CreationObserved(key)
		c.runner.Enqueue(key)
	}
}

func (c *Controller) updatePod(old, cur any) {
	o, p := old.(*corev1.Pod), cur.(*corev1.Pod)
	if o.ResourceVersion == p.ResourceVersion {
		return
	}
	ds := c.owner(p)
	if ds == nil {
		return
	}
	key := keyOf(ds)
	if p.DeletionTimestamp != nil {
		c.exp.DeletionObserved(key, p.Namespace+"/"+p.Name)
	}
	c.runner.Enqueue(key)
	if m := ds.Spec.MinReadySeconds; m > 0 && !replicaset.IsPodReady(o) && replicaset.IsPodReady(p) {
		c.runner.EnqueueAfter(key, time.Duration(m)*time.Second+time.Second)
	}
}

func (c *Controller) deletePod(obj any) {
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
	if ds := c.owner(pod); ds != nil {
		key := keyOf(ds)
		c.exp.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
		c.runner.Enqueue(key)
	}
}

// owner is the DaemonSet controlling pod, if it still exists.
func (c *Controller) owner(pod *corev1.Pod) *appsv1.DaemonSet {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "DaemonSet" {
		return nil
	}
	ds, err := c.dsets.DaemonSets(pod.Namespace).Get(ref.Name)
	if err != nil || ds.UID != ref.UID {
		return nil
	}
	return ds
}

func keyOf(ds *appsv1.DaemonSet) string { return ds.Namespace + "/" + ds.Name }
