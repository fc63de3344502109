package cache

import "github.com/prometheus/client_golang/prometheus"

// collector exports a Cache's counters under CoreDNS's cache plugin
// names and labels. The zones label is "." and the view label empty.
type collector struct {
	c                               *Cache
	entries, requests, hits, misses *prometheus.Desc
	evictions, drops                *prometheus.Desc
	server, zones, view             string
}

func newCollector(c *Cache) *collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("coredns_cache_"+name, help, labels, nil)
	}
	return &collector{
		c:         c,
		entries:   desc("entries", "The number of elements in the cache.", "server", "type", "zones", "view"),
		requests:  desc("requests_total", "The count of cache requests.", "server", "zones", "view"),
		hits:      desc("hits_total", "The count of cache hits.", "server", "type", "zones", "view"),
		misses:    desc("misses_total", "The count of cache misses. Deprecated, derive misses from cache hits/requests counters.", "server", "zones", "view"),
		evictions: desc("evictions_total", "The count of cache evictions.", "server", "type", "zones", "view"),
		drops:     desc("drops_total", "The number responses that are not cached, because the reply is malformed.", "server", "zones", "view"),
		server:    c.cfg.Server,
		zones:     ".",
	}
}

// Describe implements prometheus.Collector.
func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.entries, m.requests, m.hits, m.misses, m.evictions, m.drops} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *collector) Collect(ch chan<- prometheus.Metric) {
	st := m.c.Stats()
	pos, neg := m.c.Len()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for _, typ := range []struct {
		name            string
		size            int
		hits, evictions uint64
	}{{"success", pos, st.SuccessHits, st.SuccessEvictions}, {"denial", neg, st.DenialHits, st.DenialEvictions}} {
		ch <- prometheus.MustNewConstMetric(m.entries, gauge, float64(typ.size), m.server, typ.name, m.zones, m.view)
		ch <- prometheus.MustNewConstMetric(m.hits, counter, float64(typ.hits), m.server, typ.name, m.zones, m.view)
		ch <- prometheus.MustNewConstMetric(m.evictions, counter, float64(typ.evictions), m.server, typ.name, m.zones, m.view)
	}
	ch <- prometheus.MustNewConstMetric(m.requests, counter, float64(st.Requests), m.server, m.zones, m.view)
	ch <- prometheus.MustNewConstMetric(m.misses, counter, float64(st.Misses), m.server, m.zones, m.view)
	ch <- prometheus.MustNewConstMetric(m.drops, counter, float64(st.Drops), m.server, m.zones, m.view)
}
