// Package cache is the DNS response cache in front of svcplane's
// forwarder. It behaves like CoreDNS's cache plugin: a success cache and a
// denial cache (NXDOMAIN, NODATA and, briefly, SERVFAIL), each bounded in
// entries with random eviction, keyed by name, type, class and the DO and
// CD bits; TTLs are capped (3600 s for answers, 1800 s for denials, at
// least 5 s) and served answers carry the TTL left. Hit and miss counters
// are exported with CoreDNS's coredns_cache_* metric names.
package cache
