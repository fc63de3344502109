package forward

import (
	"fmt"
	"strconv"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// proxyName is the proxy_name label of the coredns_proxy_* metrics.
const proxyName = "forward"

// metrics are the forward plugin's CoreDNS metrics (v1.11 and later).
type metrics struct {
	duration       *prometheus.HistogramVec // coredns_proxy_request_duration_seconds{proxy_name,to,rcode}
	healthFailures *prometheus.CounterVec   // coredns_proxy_healthcheck_failures_total{proxy_name,to}
	broken         prometheus.Counter       // coredns_forward_healthcheck_broken_total
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "coredns", Subsystem: "proxy", Name: "request_duration_seconds",
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 16),
			Help:    "Histogram of the time each request took.",
		}, []string{"proxy_name", "to", "rcode"}),
		healthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "coredns", Subsystem: "proxy", Name: "healthcheck_failures_total",
			Help: "Counter of the number of failed healthchecks.",
		}, []string{"proxy_name", "to"}),
		broken: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "coredns", Subsystem: "forward", Name: "healthcheck_broken_total",
			Help: "Counter of the number of complete failures of the healthchecks.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.duration, m.healthFailures, m.broken} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register forward metrics: %w", err)
		}
	}
	return m, nil
}

// observe records an answer from upstream to.
func (m *metrics) observe(to string, rcode int, took time.Duration) {
	rc, ok := dns.RcodeToString[rcode]
	if !ok {
		rc = strconv.Itoa(rcode)
	}
	m.duration.WithLabelValues(proxyName, to, rc).Observe(took.Seconds())
}
