// Package servicealloc gives Services their cluster IPs and node ports as
// they are written: the registry.Hooks of the services resource. It runs
// the Service rules that precede allocation (registry/service.BeginCreate,
// BeginUpdate), then the allocators, and releases what a deleted or changed
// Service no longer holds once the write is stored.
//
// With a Store, every value is also claimed in storage (package
// allocator/claim), so that API servers sharing the store never hand out a
// value twice; without one, the allocators are in memory only, which is
// safe for a single API server.
package servicealloc

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
	"github.com/svcplane/svcplane/internal/apiserver/allocator/claim"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/service"
	"github.com/svcplane/svcplane/internal/storage"
)

// Config is the cluster's service networking.
type Config struct {
	// ServiceCIDRs, primary first; empty means 10.96.0.0/12.
	ServiceCIDRs []netip.Prefix
	// NodePortRange such as "30000-32767"; empty means that default.
	NodePortRange string
	// Store, when set, keeps a claim for every allocated value; nil keeps
	// the allocations in memory only (one API server).
	Store storage.Store
	// Server names this API server in its claims; default the host name
	// and a random suffix.
	Server string
	// Logger receives release failures and what the claims' upkeep does;
	// nil discards them.
	Logger *slog.Logger
}

// Hooks allocate for Services.
type Hooks struct {
	svc    service.Config
	allocs *allocator.Allocators // in memory; behind claims when there are
	claims *claim.Claims
	log    *slog.Logger
}

var _ registry.Hooks = (*Hooks)(nil)

// New returns hooks with empty allocators; Repair fills them from the
// Services that exist before any write is served.
func New(cfg Config) (*Hooks, error) {
	allocs, err := allocator.New(allocator.Config{ServiceCIDRs: cfg.ServiceCIDRs, NodePortRange: cfg.NodePortRange})
	if err != nil {
		return nil, err
	}
	families := []corev1.IPFamily{allocs.Primary}
	for f := range allocs.IPs {
		if f != allocs.Primary {
			families = append(families, f)
		}
	}
	h := &Hooks{svc: service.Config{IPFamilies: families}, allocs: allocs, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Store != nil {
		h.claims, err = claim.New(claim.Config{Store: cfg.Store, Local: allocs, Server: serverName(cfg.Server), Logger: h.log})
	}
	return h, err
}

// allocators returns the allocators a write of svc uses: bound to the
// request and to svc when values are claimed.
func (h *Hooks) allocators(ctx context.Context, svc *corev1.Service) *allocator.Allocators {
	if h.claims == nil {
		return h.allocs
	}
	return h.claims.For(ctx, claim.Holder(svc.Namespace, svc.Name))
}

// ServiceConfig is the configuration the Service strategy must use.
func (h *Hooks) ServiceConfig() service.Config { return h.svc }

// FirstAddress is the primary range's first address: the ClusterIP of the
// kubernetes Service.
func (h *Hooks) FirstAddress() (netip.Addr, error) {
	r, ok := h.allocs.IPs[h.allocs.Primary].(*allocator.IPRange)
	if !ok {
		return netip.Addr{}, fmt.Errorf("the primary service range is not an IP range")
	}
	return r.FirstAddress(), nil
}

// Repair reads the stored Services with list, marks what they hold as
// allocated and returns the conflicts found (two Services with one
// address). With a store it also marks what other servers claimed and
// claims the values Services hold without a claim. Call it once, before
// Service writes are served.
func (h *Hooks) Repair(ctx context.Context, list claim.ListServices) ([]allocator.Conflict, error) {
	if h.claims != nil {
		return h.claims.Start(ctx, list)
	}
	services, err := list(ctx)
	if err != nil {
		return nil, err
	}
	return allocator.Repair(h.allocs, services), nil
}

// ListServices reads the stored Services with objects (the API server's
// Objects), for Repair and Run.
func ListServices(objects func(context.Context, schema.GroupVersionResource) ([]runtime.Object, error)) claim.ListServices {
	return func(ctx context.Context) ([]*corev1.Service, error) {
		objs, err := objects(ctx, corev1.SchemeGroupVersion.WithResource("services"))
		if err != nil {
			return nil, fmt.Errorf("read services for the allocators: %w", err)
		}
		services := make([]*corev1.Service, 0, len(objs))
		for _, o := range objs {
			services = append(services, o.(*corev1.Service))
		}
		return services, nil
	}
}

// Run keeps the claims in shape until ctx ends: it follows what other
// servers claim and release, and periodically releases claims no Service
// holds (list reads the stored Services). Without a store it returns at
// once.
func (h *Hooks) Run(ctx context.Context, list claim.ListServices) {
	if h.claims != nil {
		h.claims.Run(ctx, list)
	}
}

// BeforeCreate allocates for a new Service.
func (h *Hooks) BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (registry.Pending, error) {
	svc := obj.(*corev1.Service)
	if errs := service.BeginCreate(svc, h.svc); len(errs) > 0 {
		return registry.Pending{}, allocator.InvalidService(svc.Name, errs...)
	}
	txn, err := h.allocators(ctx, svc).Create(svc, dryRun)
	if err != nil {
		return registry.Pending{}, err
	}
	return h.pending(txn, svc), nil
}

// BeforeUpdate allocates what a changed Service newly needs; what it no
// longer needs is released once the change is stored.
func (h *Hooks) BeforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (registry.Pending, error) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	if errs := service.BeginUpdate(svc, oldSvc, h.svc); len(errs) > 0 {
		return registry.Pending{}, allocator.InvalidService(svc.Name, errs...)
	}
	txn, err := h.allocators(ctx, oldSvc).Update(svc, oldSvc, dryRun)
	if err != nil {
		return registry.Pending{}, err
	}
	return h.pending(txn, svc), nil
}

// AfterDelete releases a deleted Service's addresses and ports. A release
// that fails leaves a claim that the sweep releases later.
func (h *Hooks) AfterDelete(ctx context.Context, obj runtime.Object) {
	svc := obj.(*corev1.Service)
	h.logFailure(h.allocators(ctx, svc).Release(svc), "release", svc)
}

func (h *Hooks) pending(txn *allocator.Txn, svc *corev1.Service) registry.Pending {
	return registry.Pending{
		Commit: func() { h.logFailure(txn.Commit(), "commit", svc) },
		Abort:  func() { h.logFailure(txn.Revert(), "revert", svc) },
	}
}

func (h *Hooks) logFailure(err error, what string, svc *corev1.Service) {
	if err != nil {
		h.log.Warn("service allocation "+what+" failed; the sweep will release what leaked",
			"service", svc.Namespace+"/"+svc.Name, "error", err)
	}
}

// serverName is name, or the host name and a random suffix.
func serverName(name string) string {
	if name != "" {
		return name
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%08x", host, rand.Uint32())
}
