// Package metrics holds the node proxy's Prometheus metrics, with
// kube-proxy's names, help texts, labels and buckets
// (pkg/proxy/metrics), so that dashboards and alerts written for
// kube-proxy keep working. Metrics are registered on the registry the
// caller gives; the package keeps no global state.
package metrics
