package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const v4 = corev1.IPv4Protocol

func TestMetricsText(t *testing.T) {
	at := time.Unix(1767225600, 500_000_000)
	tests := []struct {
		name    string
		observe func(*Metrics)
		metrics []string
		want    string
	}{
		{"sync timestamps", func(m *Metrics) { m.SyncSucceeded(v4, at); m.SyncQueued(v4, at.Add(time.Second)) },
			[]string{"kubeproxy_sync_proxy_rules_last_timestamp_seconds", "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds"}, `
# HELP kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds The last time a sync of proxy rules was queued
# TYPE kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds gauge
kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="IPv4"} 1.7672256015e+09
# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds The last time proxy rules were successfully synced
# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge
kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1.7672256005e+09
`},
		{"changes", func(m *Metrics) {
			m.EndpointChanged()
			m.EndpointChanged()
			m.ServiceChanged()
			m.SetPendingChanges(1, 3)
		}, []string{"kubeproxy_sync_proxy_rules_endpoint_changes_total", "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
			"kubeproxy_sync_proxy_rules_service_changes_total", "kubeproxy_sync_proxy_rules_service_changes_pending"}, `
# HELP kubeproxy_sync_proxy_rules_endpoint_changes_pending Pending proxy rules Endpoint changes
# TYPE kubeproxy_sync_proxy_rules_endpoint_changes_pending gauge
kubeproxy_sync_proxy_rules_endpoint_changes_pending 3
# HELP kubeproxy_sync_proxy_rules_endpoint_changes_total Cumulative proxy rules Endpoint changes
# TYPE kubeproxy_sync_proxy_rules_endpoint_changes_total counter
kubeproxy_sync_proxy_rules_endpoint_changes_total 2
# HELP kubeproxy_sync_proxy_rules_service_changes_pending Pending proxy rules Service changes
# TYPE kubeproxy_sync_proxy_rules_service_changes_pending gauge
kubeproxy_sync_proxy_rules_service_changes_pending 1
# HELP kubeproxy_sync_proxy_rules_service_changes_total Cumulative proxy rules Service changes
# TYPE kubeproxy_sync_proxy_rules_service_changes_total counter
kubeproxy_sync_proxy_rules_service_changes_total 1
`},
		{"no local endpoints", func(m *Metrics) { m.SetNoLocalEndpoints(v4, 2, 1) },
			[]string{"kubeproxy_sync_proxy_rules_no_local_endpoints_total"}, `
# HELP kubeproxy_sync_proxy_rules_no_local_endpoints_total Number of services with a Local traffic policy and no endpoints
# TYPE kubeproxy_sync_proxy_rules_no_local_endpoints_total gauge
kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="external"} 1
kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="internal"} 2
`},
		{"iptables", func(m *Metrics) {
			m.SetIPTablesRules(v4, "nat", 55, 12)
			m.IPTablesRestoreFailed(v4, true)
			m.IPTablesRestoreFailed(v4, false)
		}, []string{"kubeproxy_sync_proxy_rules_iptables_total", "kubeproxy_sync_proxy_rules_iptables_last",
			"kubeproxy_sync_proxy_rules_iptables_restore_failures_total", "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total"}, `
# HELP kubeproxy_sync_proxy_rules_iptables_last Number of iptables rules written by kube-proxy in last sync
# TYPE kubeproxy_sync_proxy_rules_iptables_last gauge
kubeproxy_sync_proxy_rules_iptables_last{ip_family="IPv4",table="nat"} 12
# HELP kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total Cumulative proxy iptables partial restore failures
# TYPE kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total counter
kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total{ip_family="IPv4"} 1
# HELP kubeproxy_sync_proxy_rules_iptables_restore_failures_total Cumulative proxy iptables restore failures
# TYPE kubeproxy_sync_proxy_rules_iptables_restore_failures_total counter
kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv4"} 2
# HELP kubeproxy_sync_proxy_rules_iptables_total Total number of iptables rules owned by kube-proxy
# TYPE kubeproxy_sync_proxy_rules_iptables_total gauge
kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} 55
`},
		{"nftables and health", func(m *Metrics) {
			m.NFTablesSyncFailed(v4)
			m.NFTablesCleanupFailed(v4)
			m.HealthzResponse(200)
			m.HealthzResponse(503)
			m.LivezResponse(200)
		}, []string{"kubeproxy_sync_proxy_rules_nftables_sync_failures_total", "kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total",
			"kubeproxy_proxy_healthz_total", "kubeproxy_proxy_livez_total"}, `
# HELP kubeproxy_proxy_healthz_total Cumulative proxy healthz HTTP status
# TYPE kubeproxy_proxy_healthz_total counter
kubeproxy_proxy_healthz_total{code="200"} 1
kubeproxy_proxy_healthz_total{code="503"} 1
# HELP kubeproxy_proxy_livez_total Cumulative proxy livez HTTP status
# TYPE kubeproxy_proxy_livez_total counter
kubeproxy_proxy_livez_total{code="200"} 1
# HELP kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total Cumulative proxy nftables cleanup failures
# TYPE kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total counter
kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total{ip_family="IPv4"} 1
# HELP kubeproxy_sync_proxy_rules_nftables_sync_failures_total Cumulative proxy nftables sync failures
# TYPE kubeproxy_sync_proxy_rules_nftables_sync_failures_total counter
kubeproxy_sync_proxy_rules_nftables_sync_failures_total{ip_family="IPv4"} 1
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := New(reg)
			tt.observe(m)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want), tt.metrics...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestObserveSync(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.ObserveSync(v4, true, 3*time.Millisecond)
	m.ObserveSync(v4, false, time.Millisecond)
	m.ObserveSync(v4, false, time.Millisecond)
	counts := map[string]uint64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			if h := mt.GetHistogram(); h != nil {
				counts[f.GetName()] = h.GetSampleCount()
				if f.GetName() == "kubeproxy_sync_proxy_rules_duration_seconds" && len(h.GetBucket()) != 15 {
					t.Errorf("sync buckets = %d, want 15", len(h.GetBucket()))
				}
			}
		}
	}
	want := map[string]uint64{
		"kubeproxy_sync_proxy_rules_duration_seconds":         3,
		"kubeproxy_sync_full_proxy_rules_duration_seconds":    1,
		"kubeproxy_sync_partial_proxy_rules_duration_seconds": 2,
	}
	if d := cmp.Diff(want, counts); d != "" {
		t.Errorf("histogram counts (-want +got):\n%s", d)
	}
}

func TestNetworkProgramming(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	now := time.Unix(1000, 0)
	m.ObserveNetworkProgramming(v4, now, now.Add(-300*time.Millisecond), time.Time{}, now.Add(-2*time.Second))
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() != "kubeproxy_network_programming_duration_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 2 || h.GetSampleSum() != 2.3 {
			t.Errorf("count %d sum %v, want 2 and 2.3", h.GetSampleCount(), h.GetSampleSum())
		}
		b := h.GetBucket()
		if len(b) != 81 || b[0].GetUpperBound() != 0 || b[1].GetUpperBound() != 0.25 || b[80].GetUpperBound() != 300 {
			t.Errorf("buckets: %d, first %v %v, last %v", len(b), b[0].GetUpperBound(), b[1].GetUpperBound(), b[len(b)-1].GetUpperBound())
		}
		return
	}
	t.Error("kubeproxy_network_programming_duration_seconds not gathered")
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name string
		reg  prometheus.Registerer
	}{
		{"own registry", nil},
		{"caller's registry", prometheus.NewRegistry()},
		{"registerer only", prometheus.WrapRegistererWith(nil, prometheus.NewRegistry())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(tt.reg)
			m.SyncSucceeded(v4, time.Unix(1, 0))
			w := httptest.NewRecorder()
			m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
			body, _ := io.ReadAll(w.Body)
			if !strings.Contains(string(body), `kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1`) {
				t.Errorf("/metrics:\n%s", body)
			}
		})
	}
}

func TestTriggerTime(t *testing.T) {
	want := time.Date(2026, 12, 4, 23, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name  string
		ann   map[string]string
		want  time.Time
		found bool
	}{
		{"RFC3339Nano", map[string]string{corev1.EndpointsLastChangeTriggerTime: "2026-12-04T23:00:00.123456789Z"}, want, true},
		{"seconds only", map[string]string{corev1.EndpointsLastChangeTriggerTime: "2026-12-04T23:00:00Z"},
			want.Truncate(time.Second), true},
		{"absent", nil, time.Time{}, false},
		{"garbage", map[string]string{corev1.EndpointsLastChangeTriggerTime: "yesterday"}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Annotations: tt.ann}}
			got, ok := TriggerTime(slice)
			if ok != tt.found || !got.Equal(tt.want) {
				t.Errorf("TriggerTime = %v, %v; want %v, %v", got, ok, tt.want, tt.found)
			}
		})
	}
	if _, ok := TriggerTime(nil); ok {
		t.Error("TriggerTime(nil) found a time")
	}
}
