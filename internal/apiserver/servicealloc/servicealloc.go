// Package servicealloc gives Services their cluster IPs and node ports as
// they are written: the registry.Hooks of the services resource. It runs
// the Service rules that precede allocation (registry/service.BeginCreate,
// BeginUpdate), then the allocators, and releases what a deleted or changed
// Service no longer holds once the write is stored.
package servicealloc

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/service"
)

// Config is the cluster's service networking.
type Config struct {
	// ServiceCIDRs, primary first; empty means 10.96.0.0/12.
	ServiceCIDRs []netip.Prefix
	// NodePortRange such as "30000-32767"; empty means that default.
	NodePortRange string
}

// Hooks allocate for Services.
type Hooks struct {
	svc    service.Config
	allocs *allocator.Allocators
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
	return &Hooks{svc: service.Config{IPFamilies: families}, allocs: allocs}, nil
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

// Repair marks what existing Services hold as allocated and returns the
// conflicts found (two Services with one address).
func (h *Hooks) Repair(services []*corev1.Service) []allocator.Conflict {
	return allocator.Repair(h.allocs, services)
}

// BeforeCreate allocates for a new Service.
func (h *Hooks) BeforeCreate(_ context.Context, obj runtime.Object, dryRun bool) (registry.Pending, error) {
	svc := obj.(*corev1.Service)
	if errs := service.BeginCreate(svc, h.svc); len(errs) > 0 {
		return registry.Pending{}, allocator.InvalidService(svc.Name, errs...)
	}
	txn, err := h.allocs.Create(svc, dryRun)
	if err != nil {
		return registry.Pending{}, err
	}
	return pending(txn), nil
}

// BeforeUpdate allocates what a changed Service newly needs; what it no
// longer needs is released once the change is stored.
func (h *Hooks) BeforeUpdate(_ context.Context, obj, old runtime.Object, dryRun bool) (registry.Pending, error) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	if errs := service.BeginUpdate(svc, oldSvc, h.svc); len(errs) > 0 {
		return registry.Pending{}, allocator.InvalidService(svc.Name, errs...)
	}
	txn, err := h.allocs.Update(svc, oldSvc, dryRun)
	if err != nil {
		return registry.Pending{}, err
	}
	return pending(txn), nil
}

// AfterDelete releases a deleted Service's addresses and ports.
func (h *Hooks) AfterDelete(_ context.Context, obj runtime.Object) {
	_ = h.allocs.Release(obj.(*corev1.Service))
}

func pending(txn *allocator.Txn) registry.Pending {
	return registry.Pending{
		Commit: func() { _ = txn.Commit() },
		Abort:  func() { _ = txn.Revert() },
	}
}
