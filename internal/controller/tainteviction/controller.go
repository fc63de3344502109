// Package tainteviction evicts pods from nodes whose NoExecute taints they
// do not tolerate, as upstream's taint-eviction-controller (the node
// lifecycle controller's NoExecuteTaintManager before 1.29) does: at once
// when a taint is not tolerated, else once the shortest tolerationSeconds
// of the tolerations used has passed since the taint was seen. Together
// with DefaultTolerationSeconds admission (300 s for the not-ready and
// unreachable taints) it moves the pods of a lost node elsewhere.
package tainteviction

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name, as upstream's.
const Name = "taint-eviction-controller"

// Upstream's event and pod condition texts.
const (
	reasonEviction   = "TaintManagerEviction"
	reasonCondition  = "DeletionByTaintManager"
	messageCondition = "Taint manager: deleting due to NoExecute taint"
)

const podsByNode = "tainteviction.nodeName"

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	Nodes    coreinformers.NodeInformer
	Pods     coreinformers.PodInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller evicts pods from NoExecute-tainted nodes.
type Controller struct {
	cfg    Config
	nodes  corelisters.NodeLister
	pods   cache.Indexer
	runner *controller.Runner
	mu     sync.Mutex
	// since is when each pod was first seen on a node with NoExecute
	// taints it tolerates for a while (upstream's scheduled work).
	since map[string]time.Time
}

// New builds the controller.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	err := cfg.Pods.Informer().AddIndexers(cache.Indexers{podsByNode: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("taint eviction pod index: %w", err)
	}
	c := &Controller{cfg: cfg, nodes: cfg.Nodes.Lister(), pods: cfg.Pods.Informer().GetIndexer(), since: map[string]time.Time{}}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if _, err := cfg.Pods.Informer().AddEventHandler(c.runner.ObjectHandlers()); err != nil {
		return nil, err
	}
	_, err = cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.nodeChanged,
		UpdateFunc: func(_, cur any) { c.nodeChanged(cur) },
	})
	return c, err
}

// Run runs the workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.cfg.Nodes.Informer().HasSynced, c.cfg.Pods.Informer().HasSynced)
}

// nodeChanged queues the node's pods.
func (c *Controller) nodeChanged(obj any) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	pods, _ := c.pods.ByIndex(podsByNode, node.Name)
	for _, p := range pods {
		c.runner.EnqueueObject(p)
	}
}

// sync decides for one pod, evicting it when its time has come and
// looking again then otherwise.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.pods.GetByKey(key)
	if err != nil {
		return err
	}
	pod, _ := obj.(*corev1.Pod)
	if !exists || pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
		c.forget(key)
		return nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	d := Decide(pod, noExecuteTaints(node), c.seen(key))
	now := c.cfg.Now()
	switch {
	case !d.Evict:
		c.forget(key)
		return nil
	case d.At.After(now):
		c.runner.EnqueueAfter(key, d.At.Sub(now))
		return nil
	}
	return c.evict(ctx, pod, key)
}

// seen returns when the pod was first seen needing a decision.
func (c *Controller) seen(key string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.since[key]
	if !ok {
		t = c.cfg.Now()
		c.since[key] = t
	}
	return t
}

func (c *Controller) forget(key string) {
	c.mu.Lock()
	delete(c.since, key)
	c.mu.Unlock()
}

// evict marks the pod with the DisruptionTarget condition and deletes it,
// as upstream does.
func (c *Controller) evict(ctx context.Context, pod *corev1.Pod, key string) error {
	c.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, reasonEviction, "Marking for deletion Pod %s", key)
	if err := c.markDisruption(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	c.cfg.Logger.Info("evicted a pod from a tainted node", "pod", key, "node", pod.Spec.NodeName)
	c.forget(key)
	return nil
}

func (c *Controller) markDisruption(ctx context.Context, pod *corev1.Pod) error {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.DisruptionTarget && cond.Status == corev1.ConditionTrue {
			return nil
		}
	}
	p := pod.DeepCopy()
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: reasonCondition, Message: messageCondition, LastTransitionTime: metav1.NewTime(c.cfg.Now())})
	_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}
