// Package nodeipam gives each Node a pod CIDR (spec.podCIDR and
// spec.podCIDRs), a /24 of the cluster's pod network by default. A CIDR is
// never handed out twice while a Node holds it: on start the CIDRs of
// existing Nodes are taken back into the set before any is allocated, and
// a deleted Node's CIDR returns to the set.
package nodeipam

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "node-ipam-controller"

// EventSource is the component its events come from, as upstream names it.
const EventSource = "cidrAllocator"

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	Nodes    coreinformers.NodeInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// ClusterCIDR is the pod network, e.g. 10.244.0.0/16.
	ClusterCIDR string
	// NodeMaskSize is the prefix length of each node's CIDR (default 24
	// for IPv4, 64 for IPv6).
	NodeMaskSize int
}

// Controller allocates node pod CIDRs.
type Controller struct {
	cfg    Config
	nodes  corelisters.NodeLister
	runner *controller.Runner
	log    *slog.Logger
	mu     sync.Mutex
	set    *CIDRSet
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cluster, err := netip.ParsePrefix(cfg.ClusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("cluster CIDR: %w", err)
	}
	if cfg.NodeMaskSize == 0 {
		cfg.NodeMaskSize = 24
		if cluster.Addr().Is6() {
			cfg.NodeMaskSize = 64
		}
	}
	set, err := NewCIDRSet(cluster, cfg.NodeMaskSize)
	if err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, nodes: cfg.Nodes.Lister(), log: cfg.Logger, set: set}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	_, err = cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.runner.EnqueueObject,
		UpdateFunc: func(_, cur any) { c.runner.EnqueueObject(cur) },
		DeleteFunc: c.deleted,
	})
	if err != nil {
		return nil, fmt.Errorf("node ipam handlers: %w", err)
	}
	return c, nil
}

// Run takes back the CIDRs existing Nodes hold, then allocates until ctx
// ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	if !cache.WaitForCacheSync(ctx.Done(), c.cfg.Nodes.Informer().HasSynced) {
		return
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		c.log.Error("list nodes for repair", "err", err)
		return
	}
	for _, n := range nodes {
		c.occupy(n)
	}
	c.runner.Run(ctx, workers)
}

func (c *Controller) occupy(n *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range n.Spec.PodCIDRs {
		if p, err := netip.ParsePrefix(s); err == nil && c.set.Occupy(p) == nil {
			continue
		}
		c.log.Warn("node pod CIDR outside the cluster CIDR", "node", n.Name, "cidr", s)
	}
}

func (c *Controller) deleted(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if n, ok = tomb.Obj.(*corev1.Node); !ok {
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range n.Spec.PodCIDRs {
		if p, err := netip.ParsePrefix(s); err == nil {
			_ = c.set.Release(p)
		}
	}
}

// sync gives one Node a CIDR if it has none.
func (c *Controller) sync(ctx context.Context, name string) error {
	n, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(n.Spec.PodCIDRs) > 0 {
		c.occupy(n)
		return nil
	}
	c.mu.Lock()
	p, err := c.set.Allocate()
	c.mu.Unlock()
	if err != nil {
		c.cfg.Recorder.Eventf(n, corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", n.Name)
		return fmt.Errorf("allocate pod CIDR for node %s: %w", name, err)
	}
	if err := c.assign(ctx, n, p); err != nil {
		c.mu.Lock()
		_ = c.set.Release(p)
		c.mu.Unlock()
		return err
	}
	c.log.Info("assigned pod CIDR", "node", name, "cidr", p.String())
	return nil
}

// assign writes the CIDR to the Node, guarded by its UID and
// resourceVersion: a Node the cache showed without a CIDR, which has
// one by now, gets a conflict (and is synced again from the newer
// Node) instead of a second CIDR.
func (c *Controller) assign(ctx context.Context, n *corev1.Node, p netip.Prefix) error {
	patch := fmt.Sprintf(`{"metadata":{"uid":%q,"resourceVersion":%q},"spec":{"podCIDR":%q,"podCIDRs":[%q]}}`, n.UID, n.ResourceVersion, p, p)
	_, err := c.cfg.Client.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	switch {
	case err == nil || apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("node %s changed since it was read: %w", n.Name, err)
	}
	c.cfg.Recorder.Eventf(n, corev1.EventTypeNormal, "CIDRAssignmentFailed", "Node %s status is now: CIDRAssignmentFailed", n.Name)
	return fmt.Errorf("assign pod CIDR %s to node %s: %w", p, n.Name, err)
}
