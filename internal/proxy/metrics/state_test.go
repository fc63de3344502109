package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

func TestNoLocalEndpoints(t *testing.T) {
	itpLocal := proxytest.OverallServices()
	for _, s := range itpLocal {
		switch s.Namespace {
		case "ns1":
			s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
		case "ns4":
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}
	}
	tests := []struct {
		name               string
		services           []*corev1.Service
		internal, external int
	}{
		{"overall fixtures: ns2 has no local endpoint", proxytest.OverallServices(), 0, 1},
		{"internal Local without, external Local with a local endpoint", itpLocal, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := proxytest.State(tt.services, proxytest.OverallSlices())
			if i, e := NoLocalEndpoints(st); i != tt.internal || e != tt.external {
				t.Errorf("NoLocalEndpoints = %d, %d; want %d, %d", i, e, tt.internal, tt.external)
			}
		})
	}
	reg := prometheus.NewRegistry()
	New(reg).ObserveState(proxytest.OverallState())
	want := `
# HELP kubeproxy_sync_proxy_rules_no_local_endpoints_total Number of services with a Local traffic policy and no endpoints
# TYPE kubeproxy_sync_proxy_rules_no_local_endpoints_total gauge
kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="external"} 1
kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="internal"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kubeproxy_sync_proxy_rules_no_local_endpoints_total"); err != nil {
		t.Error(err)
	}
}
