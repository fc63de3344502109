package proxy

import (
	"context"
	"log/slog"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"time"
)

// TriggerTimeFunc reads an EndpointSlice's last-change-trigger-time.
type TriggerTimeFunc func(*discoveryv1.EndpointSlice) (time.Time, bool)

// Flow selects conntrack entries of one protocol: by original destination
// address and port (zero values match any), and by the reply source (the
// endpoint a flow was translated to) when set.
type Flow struct {
	Protocol corev1.Protocol
	OrigDst  netip.Addr
	DstPort  int32
	ReplySrc netip.Addr
}

// Conntrack deletes conntrack entries.
type Conntrack interface {
	// Delete removes the entries that match f and says how many.
	Delete(ctx context.Context, f Flow) (int, error)
}

// clearStale removes the UDP flows a sync made stale, as kube-proxy does:
// flows to an endpoint that is no longer reachable (they would keep going
// to it), and flows to a service address that had no endpoints before, or
// was not programmed yet (they were rejected or left untranslated, and
// conntrack would keep them so).
func clearStale(ctx context.Context, ct Conntrack, prev, cur *State, log *slog.Logger) {
	for _, name := range udpChanged(prev, cur) {
		var before *ServiceState
		if prev != nil {
			before = prev.Service(name)
		}
		for _, f := range staleFlows(before, cur.Service(name)) {
			if _, err := ct.Delete(ctx, f); err != nil {
				log.Warn("clearing stale conntrack entries", "service", name.String(), "flow", f, "err", err)
			}
		}
	}
}

// udpChanged lists the UDP service ports a sync may have made stale: the
// changed ones, or after a start (no previous state) every one, since
// datagrams sent before the proxy ran were never translated.
func udpChanged(prev, cur *State) []ServicePortName {
	var out []ServicePortName
	if prev == nil {
		for _, s := range cur.Services {
			if s.Protocol == corev1.ProtocolUDP {
				out = append(out, s.Name)
			}
		}
		return out
	}
	for name := range cur.Changed {
		if name.Protocol == corev1.ProtocolUDP {
			out = append(out, name)
		}
	}
	return out
}

// staleFlows lists the flows to delete for one UDP service port that
// changed from before (nil when new) to after (nil when removed). A new
// port with endpoints counts as one gaining its first: a datagram sent
// before the proxy knew the port left a flow that was never translated,
// and conntrack would keep it so.
func staleFlows(before, after *ServiceState) []Flow {
	if before == nil {
		before = &ServiceState{}
	}
	var flows []Flow
	reachable := map[string]bool{}
	if after != nil {
		for _, e := range after.AllReachable {
			reachable[e.String()] = true
		}
	}
	for _, e := range before.AllReachable {
		if reachable[e.String()] {
			continue
		}
		for _, f := range serviceFlows(before.ServicePort) {
			f.ReplySrc = e.IP
			flows = append(flows, f)
		}
	}
	if after != nil && len(before.AllReachable) == 0 && len(after.AllReachable) > 0 {
		flows = append(flows, serviceFlows(after.ServicePort)...)
	}
	return flows
}

// serviceFlows selects the flows to every address of a service port.
func serviceFlows(sp *ServicePort) []Flow {
	flows := []Flow{{Protocol: sp.Protocol, OrigDst: sp.ClusterIP, DstPort: sp.Port}}
	for _, ip := range append(append([]netip.Addr(nil), sp.ExternalIPs...), sp.LoadBalancerVIPs...) {
		flows = append(flows, Flow{Protocol: sp.Protocol, OrigDst: ip, DstPort: sp.Port})
	}
	if sp.NodePort != 0 {
		flows = append(flows, Flow{Protocol: sp.Protocol, DstPort: sp.NodePort})
	}
	return flows
}
