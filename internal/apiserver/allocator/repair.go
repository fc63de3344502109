package allocator

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Conflict is a value a stored Service holds that Repair could not reserve
// for it: taken by another Service, outside the range, or unparsable. The
// Service keeps working as stored, but its owner should recreate it.
type Conflict struct {
	// Service is "namespace/name".
	Service string
	// Field is where the value sits, e.g. "spec.clusterIPs[0]",
	// "spec.ports[1].nodePort" or "spec.healthCheckNodePort".
	Field string
	// Value is the IP or the port number.
	Value string
	// Holder is the Service that reserved Value first, for duplicates.
	Holder string
	// Err is ErrAllocated or ErrPortAllocated for a duplicate, an
	// ErrNotInRange or ErrPortNotInRange, or another error.
	Err error
}

// String describes the conflict in upstream's repair-loop words.
func (c Conflict) String() string {
	what := "the node port"
	if strings.HasPrefix(c.Field, "spec.clusterIPs") {
		what = "the cluster IP"
	}
	var ip *ErrNotInRange
	var port *ErrPortNotInRange
	switch {
	case IsAllocated(c.Err):
		return fmt.Sprintf("%s %s for service %s was assigned to multiple services; please recreate", what, c.Value, c.Service)
	case errors.As(c.Err, &ip):
		return fmt.Sprintf("%s %s for service %s is not within the service CIDR %s; please recreate", what, c.Value, c.Service, ip.ValidRange)
	case errors.As(c.Err, &port):
		return fmt.Sprintf("%s %s for service %s is not within the port range %s; please recreate", what, c.Value, c.Service, port.ValidPorts)
	}
	return fmt.Sprintf("%s %s for service %s can not be repaired: %v", what, c.Value, c.Service, c.Err)
}

// Repair reserves in a the cluster IPs and node ports that services hold, as
// upstream's repair controllers rebuild their ranges: call it with empty
// allocators at start-up, with every stored Service, before Service writes
// are served. Services are taken in namespace/name order (the order a list
// from storage has), so the first of two Services sharing a value keeps it;
// the others are reported.
func Repair(a *Allocators, services []*v1.Service) []Conflict {
	sorted := slices.Clone(services)
	slices.SortFunc(sorted, func(x, y *v1.Service) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	r := repairer{a: a, holders: map[string]string{}}
	for _, svc := range sorted {
		r.clusterIPs(svc)
		r.nodePorts(svc)
	}
	return r.conflicts
}

type repairer struct {
	a         *Allocators
	holders   map[string]string // "ip:<ip>" / "port:<n>" -> service
	conflicts []Conflict
}

func (r *repairer) clusterIPs(svc *v1.Service) {
	if !hasClusterIPs(svc) {
		return
	}
	for i, ip := range clusterIPsOf(svc) {
		field := fmt.Sprintf("spec.clusterIPs[%d]", i)
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			r.report(svc, field, ip, "", err)
			continue
		}
		alloc, ok := r.a.IPs[familyOf(ip)]
		if !ok {
			r.report(svc, field, ip, "", fmt.Errorf("no service CIDR of family %s", familyOf(ip)))
			continue
		}
		r.reserve(svc, field, "ip:"+ip, ip, alloc.Allocate(addr))
	}
}

// nodePorts reserves the node ports of svc, upstream's
// collectServiceNodePorts way: one node port shared by ports of different
// protocols counts once, and so does a health check node port equal to a
// non-TCP node port.
func (r *repairer) nodePorts(svc *v1.Service) {
	protocols := map[int32][]v1.Protocol{}
	for i, p := range svc.Spec.Ports {
		np := p.NodePort
		if np == 0 {
			continue
		}
		seen := protocols[np]
		if len(seen) > 0 && !slices.Contains(seen, p.Protocol) {
			protocols[np] = append(seen, p.Protocol)
			continue
		}
		protocols[np] = append(seen, p.Protocol)
		r.reservePort(svc, fmt.Sprintf("spec.ports[%d].nodePort", i), np)
	}
	if hc := svc.Spec.HealthCheckNodePort; hc != 0 {
		if seen := protocols[hc]; len(seen) == 0 || slices.Contains(seen, v1.ProtocolTCP) {
			r.reservePort(svc, "spec.healthCheckNodePort", hc)
		}
	}
}

func (r *repairer) reservePort(svc *v1.Service, field string, np int32) {
	v := fmt.Sprint(np)
	r.reserve(svc, field, "port:"+v, v, r.a.NodePorts.Allocate(int(np)))
}

// reserve records the outcome of one Allocate.
func (r *repairer) reserve(svc *v1.Service, field, key, value string, err error) {
	name := svc.Namespace + "/" + svc.Name
	if err == nil {
		r.holders[key] = name
		return
	}
	r.report(svc, field, value, r.holders[key], err)
}

func (r *repairer) report(svc *v1.Service, field, value, holder string, err error) {
	r.conflicts = append(r.conflicts, Conflict{
		Service: svc.Namespace + "/" + svc.Name,
		Field:   field,
		Value:   value,
		Holder:  holder,
		Err:     err,
	})
}
