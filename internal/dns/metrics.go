package dns

import (
	"fmt"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are CoreDNS's server metrics (plugin/metrics/vars), with its
// names, labels and buckets. The view label is always empty.
type metrics struct {
	requests     *prometheus.CounterVec   // coredns_dns_requests_total{server,zone,view,proto,family,type}
	doRequests   *prometheus.CounterVec   // coredns_dns_do_requests_total{server,zone,view}
	duration     *prometheus.HistogramVec // coredns_dns_request_duration_seconds{server,zone,view}
	requestSize  *prometheus.HistogramVec // coredns_dns_request_size_bytes{server,zone,view,proto}
	responseSize *prometheus.HistogramVec // coredns_dns_response_size_bytes{server,zone,view,proto}
	responses    *prometheus.CounterVec   // coredns_dns_responses_total{server,zone,view,rcode,plugin}
	panics       prometheus.Counter       // coredns_panics_total

	handles sync.Map // reportKey → *reportHandles, so that a query looks up its label set once
}

// reportKey is the label set of one query's metrics.
type reportKey struct {
	server, zone, proto, qtype, rcode, plugin string
	ipv6, do                                  bool
}

// reportHandles are the metrics of one label set; doRequests is nil
// without the DO bit (its series appears with the first DO query, as in
// CoreDNS).
type reportHandles struct {
	doRequests, requests, responses     prometheus.Counter
	duration, requestSize, responseSize prometheus.Observer
}

func sizeBuckets() []float64 {
	return []float64{0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "coredns", Subsystem: "dns", Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "coredns", Subsystem: "dns", Name: name, Help: help, Buckets: buckets}, labels)
	}
	m := &metrics{
		requests:   counter("requests_total", "Counter of DNS requests made per zone, protocol and family.", "server", "zone", "view", "proto", "family", "type"),
		doRequests: counter("do_requests_total", "Counter of DNS requests with DO bit set per zone.", "server", "zone", "view"),
		duration: histogram("request_duration_seconds", "Histogram of the time (in seconds) each request took per zone.",
			prometheus.ExponentialBuckets(0.00025, 2, 16), "server", "zone", "view"),
		requestSize: histogram("request_size_bytes", "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
			sizeBuckets(), "server", "zone", "view", "proto"),
		responseSize: histogram("response_size_bytes", "Size of the returned response in bytes.", sizeBuckets(), "server", "zone", "view", "proto"),
		responses:    counter("responses_total", "Counter of response status codes.", "server", "zone", "view", "rcode", "plugin"),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "coredns", Name: "panics_total", Help: "A metrics that counts the number of panics."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.doRequests, m.duration, m.requestSize, m.responseSize, m.responses, m.panics} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register dns metrics: %w", err)
		}
	}
	return m, nil
}

// report records one answered query, as CoreDNS's vars.Report.
func (m *metrics) report(server string, q *query, rcode, rsize int, zone, plugin string, took time.Duration) {
	var qtype uint16
	if len(q.question) > 0 {
		qtype = q.question[0].Qtype
	}
	h := m.handlesOf(reportKey{server: server, zone: zone, proto: q.proto, qtype: typeLabel(qtype),
		rcode: rcodeString(rcode), plugin: plugin, ipv6: q.client.Addr().Is6(), do: q.do})
	if h.doRequests != nil {
		h.doRequests.Inc()
	}
	h.requests.Inc()
	h.duration.Observe(took.Seconds())
	h.responseSize.Observe(float64(rsize))
	h.requestSize.Observe(float64(q.size))
	h.responses.Inc()
}

// handlesOf returns the metrics of label set k, looked up once.
func (m *metrics) handlesOf(k reportKey) *reportHandles {
	if h, ok := m.handles.Load(k); ok {
		return h.(*reportHandles)
	}
	const view = ""
	family := "1"
	if k.ipv6 {
		family = "2"
	}
	h := &reportHandles{
		requests:     m.requests.WithLabelValues(k.server, k.zone, view, k.proto, family, k.qtype),
		duration:     m.duration.WithLabelValues(k.server, k.zone, view),
		requestSize:  m.requestSize.WithLabelValues(k.server, k.zone, view, k.proto),
		responseSize: m.responseSize.WithLabelValues(k.server, k.zone, view, k.proto),
		responses:    m.responses.WithLabelValues(k.server, k.zone, view, k.rcode, k.plugin),
	}
	if k.do {
		h.doRequests = m.doRequests.WithLabelValues(k.server, k.zone, view)
	}
	actual, _ := m.handles.LoadOrStore(k, h)
	return actual.(*reportHandles)
}

// typeLabel is the type label: the types CoreDNS monitors by name, the
// others as "other".
func typeLabel(qtype uint16) string {
	switch qtype {
	case mdns.TypeA, mdns.TypeAAAA, mdns.TypeCNAME, mdns.TypeDNSKEY, mdns.TypeDS, mdns.TypeMX, mdns.TypeNSEC3,
		mdns.TypeNSEC, mdns.TypeNS, mdns.TypePTR, mdns.TypeRRSIG, mdns.TypeSOA, mdns.TypeSRV, mdns.TypeTXT,
		mdns.TypeHTTPS, mdns.TypeSVCB, mdns.TypeIXFR, mdns.TypeAXFR, mdns.TypeANY:
		return mdns.TypeToString[qtype]
	}
	return "other"
}
