package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
)

const subsystem = "kubeproxy"

// The traffic_policy label values of
// kubeproxy_sync_proxy_rules_no_local_endpoints_total.
const (
	PolicyInternal = "internal"
	PolicyExternal = "external"
)

// Metrics are the proxy's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	gatherer prometheus.Gatherer

	syncDuration, syncFull, syncPartial *prometheus.HistogramVec
	networkProgramming                  *prometheus.HistogramVec
	lastSync, lastQueued                *prometheus.GaugeVec
	endpointChanges, serviceChanges     prometheus.Counter
	endpointPending, servicePending     prometheus.Gauge
	noLocalEndpoints                    *prometheus.GaugeVec
	iptablesTotal, iptablesLast         *prometheus.GaugeVec
	restoreFailures, partialFailures    *prometheus.CounterVec
	nftSyncFailures, nftCleanupFailures *prometheus.CounterVec
	healthz, livez                      *prometheus.CounterVec
}

// syncBuckets are kube-proxy's buckets for sync durations: 1 ms to ~16 s.
func syncBuckets() []float64 { return prometheus.ExponentialBuckets(0.001, 2, 15) }

// programmingBuckets are kube-proxy's buckets for network programming
// latency: 0 (a quirk of upstream's MergeBuckets, kept so that queries
// match), 0.25 s and 0.5 s, every second to 59 s, every 5 s to 115 s,
// every 30 s to 5 min.
func programmingBuckets() []float64 {
	b := append([]float64{0}, prometheus.LinearBuckets(0.25, 0.25, 2)...)
	b = append(b, prometheus.LinearBuckets(1, 1, 59)...)
	b = append(b, prometheus.LinearBuckets(60, 5, 12)...)
	return append(b, prometheus.LinearBuckets(120, 30, 7)...)
}

// New creates the metrics and registers them on reg, which must not hold
// them already. Handler serves reg when it is also a Gatherer (a
// *prometheus.Registry), else a registry of these metrics only; a nil reg
// means a new registry.
func New(reg prometheus.Registerer) *Metrics {
	own := prometheus.NewRegistry()
	m := newMetrics()
	cs := m.collectors()
	own.MustRegister(cs...)
	m.gatherer = own
	if reg != nil {
		reg.MustRegister(cs...)
		if g, ok := reg.(prometheus.Gatherer); ok {
			m.gatherer = g
		}
	}
	return m
}

func newMetrics() *Metrics {
	fam := []string{"ip_family"}
	return &Metrics{
		syncDuration: histogram("sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds", syncBuckets(), fam),
		syncFull: histogram("sync_full_proxy_rules_duration_seconds",
			"SyncProxyRules latency in seconds for full resyncs", syncBuckets(), fam),
		syncPartial: histogram("sync_partial_proxy_rules_duration_seconds",
			"SyncProxyRules latency in seconds for partial resyncs", syncBuckets(), fam),
		networkProgramming: histogram("network_programming_duration_seconds",
			"In Cluster Network Programming Latency in seconds", programmingBuckets(), fam),
		lastSync:   gauge("sync_proxy_rules_last_timestamp_seconds", "The last time proxy rules were successfully synced", fam),
		lastQueued: gauge("sync_proxy_rules_last_queued_timestamp_seconds", "The last time a sync of proxy rules was queued", fam),
		endpointChanges: prometheus.NewCounter(prometheus.CounterOpts{Subsystem: subsystem,
			Name: "sync_proxy_rules_endpoint_changes_total", Help: "Cumulative proxy rules Endpoint changes"}),
		serviceChanges: prometheus.NewCounter(prometheus.CounterOpts{Subsystem: subsystem,
			Name: "sync_proxy_rules_service_changes_total", Help: "Cumulative proxy rules Service changes"}),
		endpointPending: prometheus.NewGauge(prometheus.GaugeOpts{Subsystem: subsystem,
			Name: "sync_proxy_rules_endpoint_changes_pending", Help: "Pending proxy rules Endpoint changes"}),
		servicePending: prometheus.NewGauge(prometheus.GaugeOpts{Subsystem: subsystem,
			Name: "sync_proxy_rules_service_changes_pending", Help: "Pending proxy rules Service changes"}),
		noLocalEndpoints: gauge("sync_proxy_rules_no_local_endpoints_total",
			"Number of services with a Local traffic policy and no endpoints", []string{"ip_family", "traffic_policy"}),
		iptablesTotal: gauge("sync_proxy_rules_iptables_total",
			"Total number of iptables rules owned by kube-proxy", []string{"ip_family", "table"}),
		iptablesLast: gauge("sync_proxy_rules_iptables_last",
			"Number of iptables rules written by kube-proxy in last sync", []string{"ip_family", "table"}),
		restoreFailures: counter("sync_proxy_rules_iptables_restore_failures_total",
			"Cumulative proxy iptables restore failures", fam),
		partialFailures: counter("sync_proxy_rules_iptables_partial_restore_failures_total",
			"Cumulative proxy iptables partial restore failures", fam),
		nftSyncFailures:    counter("sync_proxy_rules_nftables_sync_failures_total", "Cumulative proxy nftables sync failures", fam),
		nftCleanupFailures: counter("sync_proxy_rules_nftables_cleanup_failures_total", "Cumulative proxy nftables cleanup failures", fam),
		healthz:            counter("proxy_healthz_total", "Cumulative proxy healthz HTTP status", []string{"code"}),
		livez:              counter("proxy_livez_total", "Cumulative proxy livez HTTP status", []string{"code"}),
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.syncDuration, m.syncFull, m.syncPartial, m.networkProgramming,
		m.lastSync, m.lastQueued, m.endpointChanges, m.serviceChanges, m.endpointPending, m.servicePending,
		m.noLocalEndpoints, m.iptablesTotal, m.iptablesLast, m.restoreFailures, m.partialFailures,
		m.nftSyncFailures, m.nftCleanupFailures, m.healthz, m.livez}
}

func histogram(name, help string, buckets []float64, labels []string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: subsystem, Name: name, Help: help, Buckets: buckets}, labels)
}

func gauge(name, help string, labels []string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: subsystem, Name: name, Help: help}, labels)
}

func counter(name, help string, labels []string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: subsystem, Name: name, Help: help}, labels)
}

// Handler serves the metrics in the Prometheus text format (mount it at
// /metrics on metricsBindAddress).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// ObserveSync records one sync's duration, in the overall histogram and in
// the full or partial one.
func (m *Metrics) ObserveSync(family corev1.IPFamily, full bool, d time.Duration) {
	f := string(family)
	m.syncDuration.WithLabelValues(f).Observe(d.Seconds())
	if full {
		m.syncFull.WithLabelValues(f).Observe(d.Seconds())
	} else {
		m.syncPartial.WithLabelValues(f).Observe(d.Seconds())
	}
}

// SyncSucceeded sets the time of the last successful sync.
func (m *Metrics) SyncSucceeded(family corev1.IPFamily, at time.Time) {
	m.lastSync.WithLabelValues(string(family)).Set(unixSeconds(at))
}

// SyncQueued sets the time a sync was last asked for.
func (m *Metrics) SyncQueued(family corev1.IPFamily, at time.Time) {
	m.lastQueued.WithLabelValues(string(family)).Set(unixSeconds(at))
}

// ObserveNetworkProgramming records, for each trigger time of the changes a
// sync applied (see TriggerTime), the time from it to now. Zero times are
// skipped.
func (m *Metrics) ObserveNetworkProgramming(family corev1.IPFamily, now time.Time, triggers ...time.Time) {
	h := m.networkProgramming.WithLabelValues(string(family))
	for _, t := range triggers {
		if !t.IsZero() {
			h.Observe(now.Sub(t).Seconds())
		}
	}
}

// EndpointChanged counts one EndpointSlice change seen.
func (m *Metrics) EndpointChanged() { m.endpointChanges.Inc() }

// ServiceChanged counts one Service change seen.
func (m *Metrics) ServiceChanged() { m.serviceChanges.Inc() }

// SetPendingChanges sets the numbers of Services whose Service and
// endpoint changes wait for the next sync (the order of Tracker.Pending).
func (m *Metrics) SetPendingChanges(services, endpoints int) {
	m.endpointPending.Set(float64(endpoints))
	m.servicePending.Set(float64(services))
}

// SetNoLocalEndpoints sets the numbers of service ports with a Local
// internal or external traffic policy and no local endpoints.
func (m *Metrics) SetNoLocalEndpoints(family corev1.IPFamily, internal, external int) {
	m.noLocalEndpoints.WithLabelValues(string(family), PolicyInternal).Set(float64(internal))
	m.noLocalEndpoints.WithLabelValues(string(family), PolicyExternal).Set(float64(external))
}

// SetIPTablesRules sets, for one table ("filter", "nat"), the number of
// rules the proxy owns and the number it wrote in the last sync.
func (m *Metrics) SetIPTablesRules(family corev1.IPFamily, table string, total, lastSync int) {
	m.iptablesTotal.WithLabelValues(string(family), table).Set(float64(total))
	m.iptablesLast.WithLabelValues(string(family), table).Set(float64(lastSync))
}

// IPTablesRestoreFailed counts a failed iptables-restore; partial says it
// was a partial sync (counted in both counters, as kube-proxy does).
func (m *Metrics) IPTablesRestoreFailed(family corev1.IPFamily, partial bool) {
	m.restoreFailures.WithLabelValues(string(family)).Inc()
	if partial {
		m.partialFailures.WithLabelValues(string(family)).Inc()
	}
}

// NFTablesSyncFailed counts a failed nftables transaction.
func (m *Metrics) NFTablesSyncFailed(family corev1.IPFamily) {
	m.nftSyncFailures.WithLabelValues(string(family)).Inc()
}

// NFTablesCleanupFailed counts a failed cleanup of stale nftables objects.
func (m *Metrics) NFTablesCleanupFailed(family corev1.IPFamily) {
	m.nftCleanupFailures.WithLabelValues(string(family)).Inc()
}

// HealthzResponse counts a /healthz answer (healthcheck.Observer).
func (m *Metrics) HealthzResponse(code int) { m.healthz.WithLabelValues(strconv.Itoa(code)).Inc() }

// LivezResponse counts a /livez answer (healthcheck.Observer).
func (m *Metrics) LivezResponse(code int) { m.livez.WithLabelValues(strconv.Itoa(code)).Inc() }

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
