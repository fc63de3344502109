package allocator

import (
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// hasNodePorts reports whether Services of type t have node ports.
func hasNodePorts(t v1.ServiceType) bool {
	return t == v1.ServiceTypeNodePort || t == v1.ServiceTypeLoadBalancer
}

// allocatesNodePorts reports whether ports without a nodePort get one: all
// NodePort Services, LoadBalancer ones unless allocateLoadBalancerNodePorts
// is false. Requested node ports are honoured either way.
func allocatesNodePorts(svc *v1.Service) bool {
	switch svc.Spec.Type {
	case v1.ServiceTypeNodePort:
		return true
	case v1.ServiceTypeLoadBalancer:
		p := svc.Spec.AllocateLoadBalancerNodePorts
		return p == nil || *p
	}
	return false
}

// needsHealthCheck is upstream's NeedsHealthCheck: a LoadBalancer Service
// with externalTrafficPolicy Local.
func needsHealthCheck(svc *v1.Service) bool {
	return svc.Spec.Type == v1.ServiceTypeLoadBalancer &&
		svc.Spec.ExternalTrafficPolicy == v1.ServiceExternalTrafficPolicyLocal
}

// nodePortsOf returns the non-zero node ports of svc's ports, duplicates
// included.
func nodePortsOf(svc *v1.Service) []int32 {
	var out []int32
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			out = append(out, p.NodePort)
		}
	}
	return out
}

// createNodePorts allocates the node ports and the health check node port of
// a new Service.
func (t *Txn) createNodePorts(svc *v1.Service) error {
	if hasNodePorts(svc.Spec.Type) {
		if err := t.initNodePorts(svc); err != nil {
			return err
		}
	}
	if needsHealthCheck(svc) {
		return t.allocHealthCheck(svc)
	}
	return nil
}

// initNodePorts gives each port that needs one a node port, as upstream's
// initNodePorts: ports with the same port number (53/TCP and 53/UDP) share
// one node port, the one requested on any of them if any, else a free one.
// A port that requests a different node port than its twin gets it too.
func (t *Txn) initNodePorts(svc *v1.Service) error {
	op := t.portOp()
	byPort := map[int32]int32{}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && !allocatesNodePorts(svc) {
			continue
		}
		shared := byPort[p.Port]
		switch {
		case shared == 0:
			np, err := t.firstNodePort(svc, i)
			if err != nil {
				return err
			}
			p.NodePort, byPort[p.Port] = np, np
		case p.NodePort == 0:
			p.NodePort = shared
		case p.NodePort != shared:
			if err := op.Allocate(int(p.NodePort)); err != nil {
				return InvalidService(svc.Name, NodePortFieldError(i, p.NodePort, err))
			}
		}
	}
	return nil
}

// firstNodePort allocates the node port of the first port with port number
// ports[i].port: the one requested on any port of that number, else a free
// one. Errors name spec.ports[i].
func (t *Txn) firstNodePort(svc *v1.Service, i int) (int32, error) {
	port := svc.Spec.Ports[i].Port
	for _, p := range svc.Spec.Ports {
		if p.Port != port || p.NodePort == 0 {
			continue
		}
		if err := t.portOp().Allocate(int(p.NodePort)); err != nil {
			return 0, InvalidService(svc.Name, NodePortFieldError(i, p.NodePort, err))
		}
		return p.NodePort, nil
	}
	np, err := t.portOp().AllocateNext()
	if err != nil {
		return 0, NodePortInternalError(err)
	}
	return int32(np), nil
}

// allocHealthCheck reserves spec.healthCheckNodePort, or a free port.
func (t *Txn) allocHealthCheck(svc *v1.Service) error {
	requested := svc.Spec.HealthCheckNodePort
	if requested != 0 {
		if err := t.portOp().Allocate(int(requested)); err != nil {
			return HealthCheckNodePortError(requested, err)
		}
		return nil
	}
	np, err := t.portOp().AllocateNext()
	if err != nil {
		return HealthCheckNodePortError(0, err)
	}
	svc.Spec.HealthCheckNodePort = int32(np)
	return nil
}

// updateNodePorts is upstream's txnUpdateNodePorts: release the node ports
// of a Service leaving NodePort/LoadBalancer, allocate new ones, release
// those no port uses any more, and allocate or release the health check
// node port when the need for it changes.
func (t *Txn) updateNodePorts(svc, old *v1.Service) error {
	if hasNodePorts(old.Spec.Type) && !hasNodePorts(svc.Spec.Type) {
		t.releasePortsLater(nodePortsOf(old))
	}
	if hasNodePorts(svc.Spec.Type) {
		if err := t.changeNodePorts(svc, old); err != nil {
			return err
		}
	}
	switch needed, needs := needsHealthCheck(old), needsHealthCheck(svc); {
	case !needed && needs:
		return t.allocHealthCheck(svc)
	case needed && !needs:
		t.releasePortsLater([]int32{old.Spec.HealthCheckNodePort})
	}
	return nil
}

// protoPort is a (protocol, node port) pair, printed as upstream prints its
// ServiceNodePort.
type protoPort struct {
	Protocol v1.Protocol
	NodePort int32
}

// changeNodePorts is upstream's updateNodePorts. Unlike creation, ports
// without a node port each get their own (no sharing by port number).
func (t *Txn) changeNodePorts(svc, old *v1.Service) error {
	oldPorts := nodePortsOf(old)
	taken := map[int32]bool{}
	var seen []protoPort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && !allocatesNodePorts(svc) {
			continue
		}
		if err := t.changeNodePort(svc, i, oldPorts, taken); err != nil {
			return err
		}
		pp := protoPort{p.Protocol, p.NodePort}
		if slices.Contains(seen, pp) {
			return apierrors.NewInternalError(fmt.Errorf("duplicate nodePort: %v", pp))
		}
		seen = append(seen, pp)
	}
	newPorts := nodePortsOf(svc)
	for _, np := range oldPorts {
		if !slices.Contains(newPorts, np) {
			t.releasePortsLater([]int32{np})
		}
	}
	return nil
}

// changeNodePort allocates the node port of spec.ports[i] unless old held it
// or an earlier port of this update took it; a port without one gets a
// free one.
func (t *Txn) changeNodePort(svc *v1.Service, i int, oldPorts []int32, taken map[int32]bool) error {
	p := &svc.Spec.Ports[i]
	if p.NodePort == 0 {
		np, err := t.portOp().AllocateNext()
		if err != nil {
			return NodePortInternalError(err)
		}
		p.NodePort = int32(np)
		return nil
	}
	if slices.Contains(oldPorts, p.NodePort) || taken[p.NodePort] {
		return nil
	}
	if err := t.portOp().Allocate(int(p.NodePort)); err != nil {
		return InvalidService(svc.Name, NodePortFieldError(i, p.NodePort, err))
	}
	taken[p.NodePort] = true
	return nil
}

// releaseNodePorts schedules the release of every node port svc holds.
func (t *Txn) releaseNodePorts(svc *v1.Service) {
	t.releasePortsLater(nodePortsOf(svc))
	if needsHealthCheck(svc) && svc.Spec.HealthCheckNodePort > 0 {
		t.releasePortsLater([]int32{svc.Spec.HealthCheckNodePort})
	}
}

func (t *Txn) releasePortsLater(ports []int32) {
	for _, np := range ports {
		t.portOp().ReleaseLater(int(np))
	}
}
