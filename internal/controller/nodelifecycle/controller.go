// Package nodelifecycle watches nodes' signs of life (their Lease in
// kube-node-lease and their Ready heartbeat). A node not heard from for the
// grace period (40 s by default) gets its Ready and pressure conditions set
// to Unknown, as upstream's node lifecycle controller does; the Pods on a
// node that is not Ready get their Ready condition set to False, so that
// their endpoints stop receiving traffic; and nodes carry the
// node.kubernetes.io condition taints (not-ready, unreachable,
// unschedulable, pressure) that the scheduler honours. The
// taint-eviction-controller (package tainteviction) evicts the pods that
// do not tolerate the NoExecute ones.
package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	coordinationinformers "k8s.io/client-go/informers/coordination/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Name is the controller's name.
const Name = "node-lifecycle-controller"

// EventSource is the component its events come from, as upstream names it.
const EventSource = "node-controller"

// LeaseNamespace holds the nodes' heartbeat Leases.
const LeaseNamespace = corev1.NamespaceNodeLease

// podsByNode names the pod index this controller adds.
const podsByNode = "nodelifecycle.nodeName"

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	Nodes    coreinformers.NodeInformer
	Leases   coordinationinformers.LeaseInformer
	Pods     coreinformers.PodInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// GracePeriod is how long a node may stay silent before it is
	// NotReady (default 40s, upstream's node-monitor-grace-period).
	GracePeriod time.Duration
	// StartupGracePeriod is how long a node that never posted a Ready
	// condition may stay silent (default 60s, upstream's
	// node-startup-grace-period).
	StartupGracePeriod time.Duration
	// MonitorPeriod is how often nodes are checked (default 5s).
	MonitorPeriod time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller monitors node health.
type Controller struct {
	cfg    Config
	nodes  corelisters.NodeLister
	leases coordinationlisters.LeaseLister
	pods   cache.Indexer
	log    *slog.Logger
	// health is touched only by the monitor loop.
	health map[string]*health
}

// New builds the controller.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = 40 * time.Second
	}
	if cfg.StartupGracePeriod == 0 {
		cfg.StartupGracePeriod = max(60*time.Second, cfg.GracePeriod)
	}
	if cfg.MonitorPeriod == 0 {
		cfg.MonitorPeriod = 5 * time.Second
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
		return nil, fmt.Errorf("node lifecycle pod index: %w", err)
	}
	return &Controller{cfg: cfg, nodes: cfg.Nodes.Lister(), leases: cfg.Leases.Lister(),
		pods: cfg.Pods.Informer().GetIndexer(), log: cfg.Logger, health: map[string]*health{}}, nil
}

// Run checks every node each MonitorPeriod until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	synced := []cache.InformerSynced{c.cfg.Nodes.Informer().HasSynced, c.cfg.Leases.Informer().HasSynced, c.cfg.Pods.Informer().HasSynced}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	c.log.Info("controller started", "controller", Name, "gracePeriod", c.cfg.GracePeriod)
	t := time.NewTicker(c.cfg.MonitorPeriod)
	defer t.Stop()
	for {
		c.monitor(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// monitor checks every node once.
func (c *Controller) monitor(ctx context.Context) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return
	}
	seen := sets.New[string]()
	for _, n := range nodes {
		seen.Insert(n.Name)
		if err := c.monitorNode(ctx, n); err != nil && ctx.Err() == nil {
			c.log.Warn("node health", "node", n.Name, "err", err)
		}
	}
	for name := range c.health {
		if !seen.Has(name) {
			delete(c.health, name)
		}
	}
}

// monitorNode marks a silent node Unknown, keeps its taints and marks the
// pods of a node that is not Ready as not ready.
func (c *Controller) monitorNode(ctx context.Context, node *corev1.Node) error {
	now := c.cfg.Now()
	lease, _ := c.leases.Leases(LeaseNamespace).Get(node.Name)
	h := observe(c.health[node.Name], node, lease, now)
	c.health[node.Name] = h
	n := node.DeepCopy()
	if h.silent(now, c.graceFor(node)) && unknownConditions(n, now) {
		updated, err := c.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("mark node unknown: %w", err)
		}
		if readyStatus(node) == corev1.ConditionTrue {
			c.cfg.Recorder.Eventf(updated, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", node.Name)
		}
		n = updated
	}
	if err := c.syncTaints(ctx, n, now); err != nil {
		return err
	}
	// A node that has not posted a Ready condition yet is starting; its
	// pods are left alone until it does or its startup grace runs out.
	if condition(n, corev1.NodeReady) != nil && readyStatus(n) != corev1.ConditionTrue {
		return c.markPodsNotReady(ctx, n.Name, now)
	}
	return nil
}

// graceFor is how long node may stay silent: longer for a node that has
// not yet posted any Ready condition, as upstream allows it to start.
func (c *Controller) graceFor(node *corev1.Node) time.Duration {
	if condition(node, corev1.NodeReady) == nil {
		return c.cfg.StartupGracePeriod
	}
	return c.cfg.GracePeriod
}

// syncTaints writes the condition taints the node should carry.
func (c *Controller) syncTaints(ctx context.Context, n *corev1.Node, now time.Time) error {
	taints, changed := reconcileTaints(n.Spec.Taints, desiredTaints(n), now)
	if !changed {
		return nil
	}
	cp := n.DeepCopy()
	cp.Spec.Taints = taints
	_, err := c.cfg.Client.CoreV1().Nodes().Update(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update taints: %w", err)
	}
	return nil
}

// markPodsNotReady sets the Ready condition of the node's pods to False.
func (c *Controller) markPodsNotReady(ctx context.Context, node string, now time.Time) error {
	objs, err := c.pods.ByIndex(podsByNode, node)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		pod := obj.(*corev1.Pod).DeepCopy()
		if !setNotReady(pod, now) {
			continue
		}
		_, err := c.cfg.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		switch {
		case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		case err != nil:
			return fmt.Errorf("mark pod %s/%s not ready: %w", pod.Namespace, pod.Name, err)
		default:
			c.cfg.Recorder.Event(pod, corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
		}
	}
	return nil
}

// setNotReady turns a True Ready condition False; it says whether it did.
func setNotReady(pod *corev1.Pod, now time.Time) bool {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			c.Status, c.LastTransitionTime = corev1.ConditionFalse, metav1.NewTime(now)
			return true
		}
	}
	return false
}
