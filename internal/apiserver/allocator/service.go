package allocator

import (
	"errors"
	"fmt"
	"net/netip"

	v1 "k8s.io/api/core/v1"
)

// DefaultServiceCIDR is svcplane's default service CIDR.
const DefaultServiceCIDR = "10.96.0.0/12"

// Config sets up the allocators of a cluster.
type Config struct {
	// ServiceCIDRs are the service CIDRs, the primary first, at most one per
	// family. Empty means DefaultServiceCIDR.
	ServiceCIDRs []netip.Prefix
	// NodePortRange is as --service-node-port-range; empty means
	// DefaultNodePortRange.
	NodePortRange string
}

// Allocators are the allocators a cluster's Services draw from. New fills
// them with in-memory ranges (*IPRange, *PortRange); any Allocator will do.
type Allocators struct {
	// IPs holds one allocator per configured family.
	IPs map[v1.IPFamily]IPAllocator
	// Primary is the family of the first service CIDR: the one a Service
	// gets when its spec.ipFamilies is empty.
	Primary v1.IPFamily
	// NodePorts serves spec.ports[].nodePort and spec.healthCheckNodePort.
	NodePorts PortAllocator
}

// New returns empty in-memory allocators for cfg.
func New(cfg Config) (*Allocators, error) {
	cidrs := cfg.ServiceCIDRs
	if len(cidrs) == 0 {
		cidrs = []netip.Prefix{netip.MustParsePrefix(DefaultServiceCIDR)}
	}
	if len(cidrs) > 2 {
		return nil, fmt.Errorf("at most 2 service CIDRs may be given, got %d", len(cidrs))
	}
	a := &Allocators{IPs: map[v1.IPFamily]IPAllocator{}}
	for i, cidr := range cidrs {
		r, err := NewIPRange(cidr)
		if err != nil {
			return nil, err
		}
		if _, dup := a.IPs[r.Family()]; dup {
			return nil, fmt.Errorf("service CIDRs %s and %s must be of different IP families", cidrs[0], cidr)
		}
		a.IPs[r.Family()] = r
		if i == 0 {
			a.Primary = r.Family()
		}
	}
	ports := cfg.NodePortRange
	if ports == "" {
		ports = DefaultNodePortRange
	}
	var err error
	a.NodePorts, err = ParsePortRange(ports)
	return a, err
}

// Txn is what one Service write allocated, and what it will release once the
// write is stored. Exactly one of Commit and Revert should be called.
type Txn struct {
	a      *Allocators
	dryRun bool
	ips    map[v1.IPFamily]*Op[netip.Addr]
	ports  *Op[int]
}

func (a *Allocators) begin(dryRun bool) *Txn {
	return &Txn{a: a, dryRun: dryRun, ips: map[v1.IPFamily]*Op[netip.Addr]{}}
}

// ipOp returns the operation on family's allocator, false if the cluster has
// no CIDR of that family.
func (t *Txn) ipOp(family v1.IPFamily) (*Op[netip.Addr], bool) {
	if op, ok := t.ips[family]; ok {
		return op, true
	}
	alloc, ok := t.a.IPs[family]
	if !ok {
		return nil, false
	}
	if t.dryRun {
		alloc = alloc.DryRun()
	}
	t.ips[family] = NewOp(alloc)
	return t.ips[family], true
}

func (t *Txn) portOp() *Op[int] {
	if t.ports == nil {
		alloc := t.a.NodePorts
		if t.dryRun {
			alloc = alloc.DryRun()
		}
		t.ports = NewOp(alloc)
	}
	return t.ports
}

// Commit performs the deferred releases (values the old object held and
// the new one does not). Errors are for logging only.
func (t *Txn) Commit() error {
	if t == nil {
		return nil
	}
	errs := []error{t.ports.commit()}
	for _, op := range t.ips {
		errs = append(errs, op.Commit())
	}
	return errors.Join(errs...)
}

// Revert frees what the transaction allocated. Errors are for logging only.
func (t *Txn) Revert() error {
	if t == nil {
		return nil
	}
	errs := []error{t.ports.revert()}
	for _, op := range t.ips {
		errs = append(errs, op.Revert())
	}
	return errors.Join(errs...)
}

// fail reverts the transaction after err. err is returned unchanged (a
// Status error) unless reverting failed too.
func (t *Txn) fail(err error) error {
	if rerr := t.Revert(); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// Allocated lists what the transaction reserved, for logs and tests.
func (t *Txn) Allocated() (ips []netip.Addr, ports []int) {
	for _, op := range t.ips {
		ips = append(ips, op.Allocated()...)
	}
	if t.ports != nil {
		ports = t.ports.Allocated()
	}
	return ips, ports
}

func (o *Op[T]) commit() error {
	if o == nil {
		return nil
	}
	return o.Commit()
}

func (o *Op[T]) revert() error {
	if o == nil {
		return nil
	}
	return o.Revert()
}

// Create allocates what a new Service needs, as kube-apiserver does before
// storing it: cluster IPs for every family in spec.ipFamilies (the requested
// ones, else free ones), node ports for NodePort and LoadBalancer Services
// and a health check node port for LoadBalancer Services with
// externalTrafficPolicy Local. It writes the values into svc.
//
// svc must be defaulted and valid, with spec.ipFamilies initialized by the
// registry (an empty list means the primary family). On error nothing stays
// allocated and the error is a Status error ready to return. With dryRun,
// nothing is reserved but the values and errors are those a real run gives.
func (a *Allocators) Create(svc *v1.Service, dryRun bool) (*Txn, error) {
	t := a.begin(dryRun)
	if err := t.createClusterIPs(svc); err != nil {
		return nil, t.fail(err)
	}
	if err := t.createNodePorts(svc); err != nil {
		return nil, t.fail(err)
	}
	return t, nil
}

// Update allocates what an updated Service needs beyond what old held, and
// schedules the release (on Commit) of what old held and svc does not:
// cluster IPs on a change from or to ExternalName and on a change of the
// number of IP families, node ports and the health check node port.
// Requirements and errors are those of Create.
func (a *Allocators) Update(svc, old *v1.Service, dryRun bool) (*Txn, error) {
	t := a.begin(dryRun)
	if err := t.updateClusterIPs(svc, old); err != nil {
		return nil, t.fail(err)
	}
	if err := t.updateNodePorts(svc, old); err != nil {
		return nil, t.fail(err)
	}
	return t, nil
}

// Release frees everything a deleted Service held; call it once the delete
// is stored.
func (a *Allocators) Release(svc *v1.Service) error {
	t := a.begin(false)
	t.releaseClusterIPs(svc)
	t.releaseNodePorts(svc)
	return t.Commit()
}
