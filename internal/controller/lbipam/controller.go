// Package lbipam gives Services of type LoadBalancer an ingress address
// from a configured range, the part MetalLB or a cloud plays elsewhere.
// spec.loadBalancerIP is honoured when it is in the range and free; an
// address is released when its Service goes or stops being a
// LoadBalancer; addresses already in Service statuses are taken back on
// start. Services with a loadBalancerClass belong to another
// implementation and are left alone.
package lbipam

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "service-lb-controller"

// EventSource is the component its events come from: upstream's service
// controller, whose event reasons it uses.
const EventSource = "service-controller"

// Config configures the controller.
type Config struct {
	Client   kubernetes.Interface
	Services coreinformers.ServiceInformer
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Range is where addresses come from: a CIDR or first-last.
	Range string
}

// Controller assigns LoadBalancer addresses.
type Controller struct {
	cfg      Config
	services corelisters.ServiceLister
	runner   *controller.Runner
	log      *slog.Logger
	mu       sync.Mutex
	pool     *Pool
}

// New builds the controller and registers its event handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r, err := ParseRange(cfg.Range)
	if err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, services: cfg.Services.Lister(), log: cfg.Logger, pool: NewPool(r)}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	_, err = cfg.Services.Informer().AddEventHandler(c.runner.ObjectHandlers())
	if err != nil {
		return nil, fmt.Errorf("lb ipam handlers: %w", err)
	}
	return c, nil
}

// Run takes back the addresses Services hold, then assigns until ctx
// ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	if !cache.WaitForCacheSync(ctx.Done(), c.cfg.Services.Informer().HasSynced) {
		return
	}
	services, err := c.services.List(labels.Everything())
	if err != nil {
		c.log.Error("list services for repair", "err", err)
		return
	}
	c.mu.Lock()
	for _, svc := range services {
		if a := statusIP(svc); wanted(svc) && a.IsValid() {
			_, _ = c.pool.Assign(svc.Namespace+"/"+svc.Name, a)
		}
	}
	c.mu.Unlock()
	c.runner.Run(ctx, workers)
}

// wanted says whether the Service asks this controller for an address.
func wanted(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

// statusIP is the first ingress address in the Service's status.
func statusIP(svc *corev1.Service) netip.Addr {
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(in.IP); err == nil {
			return a
		}
	}
	return netip.Addr{}
}

// sync assigns or releases one Service's address.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.release(key)
		return nil
	}
	if err != nil {
		return err
	}
	if !wanted(svc) {
		if c.release(key) {
			c.cfg.Recorder.Event(svc, corev1.EventTypeNormal, "DeletedLoadBalancer", "Deleted load balancer")
		}
		return nil
	}
	addr, err := c.assign(key, svc)
	if err != nil {
		c.cfg.Recorder.Eventf(svc, corev1.EventTypeWarning, "SyncLoadBalancerFailed",
			"Error syncing load balancer: failed to ensure load balancer: %v", err)
		return nil
	}
	return c.writeStatus(ctx, svc, addr)
}

// assign picks the address: the requested spec.loadBalancerIP, else the
// one in the status if still free, else any.
func (c *Controller) assign(key string, svc *corev1.Service) (netip.Addr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req := svc.Spec.LoadBalancerIP; req != "" {
		a, err := netip.ParseAddr(req)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("invalid loadBalancerIP %q", req)
		}
		return c.pool.Assign(key, a)
	}
	if a := statusIP(svc); a.IsValid() {
		if got, err := c.pool.Assign(key, a); err == nil {
			return got, nil
		}
	}
	return c.pool.Assign(key, netip.Addr{})
}

// release frees key's address and retries Services still waiting for
// one; it says whether key held any.
func (c *Controller) release(key string) bool {
	c.mu.Lock()
	_, held := c.pool.Held(key)
	c.pool.Release(key)
	c.mu.Unlock()
	if held {
		c.requeuePending()
	}
	return held
}

func (c *Controller) requeuePending() {
	services, _ := c.services.List(labels.Everything())
	for _, svc := range services {
		if wanted(svc) && len(svc.Status.LoadBalancer.Ingress) == 0 {
			c.runner.Enqueue(svc.Namespace + "/" + svc.Name)
		}
	}
}

// writeStatus publishes the address as the Service's ingress.
func (c *Controller) writeStatus(ctx context.Context, svc *corev1.Service, addr netip.Addr) error {
	vip := corev1.LoadBalancerIPModeVIP
	want := corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: addr.String(), IPMode: &vip}}}
	if apiequality.Semantic.DeepEqual(svc.Status.LoadBalancer, want) {
		return nil
	}
	c.cfg.Recorder.Event(svc, corev1.EventTypeNormal, "EnsuringLoadBalancer", "Ensuring load balancer")
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer = want
	_, err := c.cfg.Client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	c.cfg.Recorder.Event(svc, corev1.EventTypeNormal, "EnsuredLoadBalancer", "Ensured load balancer")
	return nil
}
