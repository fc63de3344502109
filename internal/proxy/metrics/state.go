package metrics

import "github.com/svcplane/svcplane/internal/proxy"

// NoLocalEndpoints counts the service ports of st with a Local internal
// (or external) traffic policy and no local endpoints, as kube-proxy counts
// them for kubeproxy_sync_proxy_rules_no_local_endpoints_total.
func NoLocalEndpoints(st *proxy.State) (internal, external int) {
	for _, s := range st.Services {
		if len(s.Local) > 0 {
			continue
		}
		if s.InternalPolicyLocal {
			internal++
		}
		if s.ExternalPolicyLocal {
			external++
		}
	}
	return internal, external
}

// ObserveState sets the gauges derived from a programmed state (the
// no-local-endpoints counts of its family).
func (m *Metrics) ObserveState(st *proxy.State) {
	internal, external := NoLocalEndpoints(st)
	m.SetNoLocalEndpoints(st.Family, internal, external)
}
