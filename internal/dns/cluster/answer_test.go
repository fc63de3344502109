package cluster

// answer_test.go: query tables for every record kind and every negative
// answer, on a small cluster fed to the index.

import (
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// world is the test cluster: namespaces default, demo and kube-system,
// and Services of every kind in demo.
func world() []any {
	tcp80 := []discoveryv1.EndpointPort{slicePort("web", "TCP", 80)}
	tolerant := headlessService("demo", "tolerant", false)
	tolerant.Annotations = map[string]string{tolerateUnreadyAnnotation: "true"}
	flip := clusterIPService("demo", "flip", []string{"10.96.0.60"}, servicePort("http", "TCP", 80))
	flip.Spec.ExternalName = "stale.example.com" // left by a GET-modify-PUT from ExternalName
	v6slice := endpointSlice("demo", "ds-v6", "ds", tcp80, readyEP("fd00:1::1", "ds-0"), readyEP("fd00:1::2", ""))
	v6slice.AddressType = discoveryv1.AddressTypeIPv6
	return []any{
		namespace("default"), namespace("demo"), namespace("kube-system"),
		clusterIPService("default", "kubernetes", []string{"10.96.0.1"}, servicePort("https", "TCP", 443)),
		clusterIPService("demo", "web", []string{"10.96.0.20"}, servicePort("http", "TCP", 80), servicePort("dns", "UDP", 53)),
		endpointSlice("demo", "web-1", "web", []discoveryv1.EndpointPort{slicePort("http", "TCP", 8080), slicePort("dns", "UDP", 5353)},
			readyEP("10.1.0.10", ""), readyEP("10.1.0.11", "")),
		clusterIPService("demo", "dual", []string{"10.96.0.30", "fd00:96::30"}, servicePort("http", "TCP", 80)),
		clusterIPService("demo", "v6", []string{"fd00:96::40"}, servicePort("https", "TCP", 443)),
		clusterIPService("demo", "single", []string{"10.96.0.50"}, servicePort("", "TCP", 8080)),
		headlessService("demo", "db", false, servicePort("mysql", "TCP", 3306)),
		endpointSlice("demo", "db-a", "db", []discoveryv1.EndpointPort{slicePort("mysql", "TCP", 3306)},
			readyEP("10.1.0.1", "db-0"), readyEP("10.1.0.3", ""), notReadyEP("10.1.0.4", "db-3")),
		endpointSlice("demo", "db-b", "db", []discoveryv1.EndpointPort{slicePort("mysql", "TCP", 3306)},
			discoveryv1.Endpoint{Addresses: []string{"10.1.0.2"}, Hostname: ptrTo("db-1")}), // ready nil = true
		headlessService("demo", "empty", false),
		endpointSlice("demo", "empty-1", "empty", tcp80, notReadyEP("10.1.0.9", "")),
		headlessService("demo", "peers", true, servicePort("peer", "TCP", 7000)),
		endpointSlice("demo", "peers-1", "peers", []discoveryv1.EndpointPort{slicePort("peer", "TCP", 7000)}, notReadyEP("10.1.1.1", "peer-0")),
		tolerant,
		endpointSlice("demo", "tolerant-1", "tolerant", nil, notReadyEP("10.1.4.1", "")),
		externalService("demo", "ext", "foo.example.com"),
		externalService("demo", "alias", "web.demo.svc.cluster.local"),
		externalService("demo", "loop", "loop.demo.svc.cluster.local"),
		externalService("demo", "byip", "1.2.3.4"),
		flip,
		headlessService("demo", "ds", false, servicePort("web", "TCP", 80)),
		endpointSlice("demo", "ds-v4", "ds", tcp80, readyEP("10.1.2.1", "ds-0"), readyEP("10.1.2.2", "")),
		v6slice,
		headlessService("demo", "noports", false),
		endpointSlice("demo", "noports-1", "noports", nil, readyEP("10.1.3.1", "")),
		headlessService("demo", "webalt", false),
		endpointSlice("demo", "webalt-1", "webalt", nil, readyEP("10.1.0.10", "w0")),
		endpointSlice("demo", "orphan-1", "gone", tcp80, readyEP("10.1.5.1", "")),
		endpointSlice("demo", "unlabelled", "", tcp80, readyEP("10.1.5.2", "")),
	}
}

func ptrTo(s string) *string { return &s }

func TestAnswerClusterIP(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	runQueries(t, c, []query{
		{name: "A", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "A mixed case keeps the asked owner", qname: "WEB.Demo.SVC.Cluster.Local.", qtype: mdns.TypeA,
			answer: []string{"WEB.Demo.SVC.Cluster.Local. 30 IN A 10.96.0.20"}},
		{name: "AAAA of IPv4-only is NODATA", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			ns: []string{soa}},
		{name: "TXT of a Service is NODATA", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeTXT,
			ns: []string{soa}},
		{name: "dual stack A", qname: "dual.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"dual.demo.svc.cluster.local. 30 IN A 10.96.0.30"}},
		{name: "dual stack AAAA", qname: "dual.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"dual.demo.svc.cluster.local. 30 IN AAAA fd00:96::30"}},
		{name: "IPv6-only A is NODATA", qname: "v6.demo.svc.cluster.local.", qtype: mdns.TypeA,
			ns: []string{soa}},
		{name: "IPv6-only AAAA", qname: "v6.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"v6.demo.svc.cluster.local. 30 IN AAAA fd00:96::40"}},
		{name: "type decides over a stale externalName", qname: "flip.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"flip.demo.svc.cluster.local. 30 IN A 10.96.0.60"}},
		{name: "CNAME of a ClusterIP Service is NODATA", qname: "flip.demo.svc.cluster.local.", qtype: mdns.TypeCNAME,
			ns: []string{soa}},
		{name: "endpoint of a ClusterIP Service", qname: "10-1-0-10.web.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-1-0-10.web.demo.svc.cluster.local. 30 IN A 10.1.0.10"}},
		{name: "unknown endpoint of a ClusterIP Service", qname: "10-1-0-99.web.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "unknown Service", qname: "nope.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "Service in an unknown namespace", qname: "web.nope.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "slice of a missing Service", qname: "gone.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
	})
}

func TestAnswerSRV(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	runQueries(t, c, []query{
		{name: "named port of a ClusterIP Service", qname: "_http._tcp.web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_http._tcp.web.demo.svc.cluster.local. 30 IN SRV 0 100 80 web.demo.svc.cluster.local."},
			extra:  []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "UDP port", qname: "_dns._udp.web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_dns._udp.web.demo.svc.cluster.local. 30 IN SRV 0 100 53 web.demo.svc.cluster.local."},
			extra:  []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "case-insensitive port and protocol", qname: "_HTTP._TCP.web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_HTTP._TCP.web.demo.svc.cluster.local. 30 IN SRV 0 100 80 web.demo.svc.cluster.local."},
			extra:  []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "wrong protocol", qname: "_dns._tcp.web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "unknown port", qname: "_nope._tcp.web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "no underscores", qname: "http.tcp.web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "A of an SRV name is NODATA", qname: "_http._tcp.web.demo.svc.cluster.local.", qtype: mdns.TypeA,
			ns: []string{soa}},
		{name: "dual stack: one SRV, both addresses", qname: "_http._tcp.dual.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_http._tcp.dual.demo.svc.cluster.local. 30 IN SRV 0 100 80 dual.demo.svc.cluster.local."},
			extra: []string{
				"dual.demo.svc.cluster.local. 30 IN A 10.96.0.30",
				"dual.demo.svc.cluster.local. 30 IN AAAA fd00:96::30",
			}},
		{name: "unnamed port has no SRV name", qname: "_http._tcp.single.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "SRV of the Service name lists every port", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{
				"web.demo.svc.cluster.local. 30 IN SRV 0 50 80 web.demo.svc.cluster.local.",
				"web.demo.svc.cluster.local. 30 IN SRV 0 50 53 web.demo.svc.cluster.local.",
			},
			extra: []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "SRV of the Service name, unnamed port", qname: "single.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"single.demo.svc.cluster.local. 30 IN SRV 0 100 8080 single.demo.svc.cluster.local."},
			extra:  []string{"single.demo.svc.cluster.local. 30 IN A 10.96.0.50"}},
		{name: "headless: one per ready endpoint, weight 100/3", qname: "_mysql._tcp.db.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{
				"_mysql._tcp.db.demo.svc.cluster.local. 30 IN SRV 0 33 3306 db-0.db.demo.svc.cluster.local.",
				"_mysql._tcp.db.demo.svc.cluster.local. 30 IN SRV 0 33 3306 10-1-0-3.db.demo.svc.cluster.local.",
				"_mysql._tcp.db.demo.svc.cluster.local. 30 IN SRV 0 33 3306 db-1.db.demo.svc.cluster.local.",
			},
			extra: []string{
				"db-0.db.demo.svc.cluster.local. 30 IN A 10.1.0.1",
				"10-1-0-3.db.demo.svc.cluster.local. 30 IN A 10.1.0.3",
				"db-1.db.demo.svc.cluster.local. 30 IN A 10.1.0.2",
			}},
		{name: "headless dual stack: a hostname with two addresses is one target", qname: "_web._tcp.ds.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{
				"_web._tcp.ds.demo.svc.cluster.local. 30 IN SRV 0 33 80 ds-0.ds.demo.svc.cluster.local.",
				"_web._tcp.ds.demo.svc.cluster.local. 30 IN SRV 0 33 80 10-1-2-2.ds.demo.svc.cluster.local.",
				"_web._tcp.ds.demo.svc.cluster.local. 30 IN SRV 0 33 80 fd00-1--2.ds.demo.svc.cluster.local.",
			},
			extra: []string{
				"ds-0.ds.demo.svc.cluster.local. 30 IN A 10.1.2.1",
				"ds-0.ds.demo.svc.cluster.local. 30 IN AAAA fd00:1::1",
				"10-1-2-2.ds.demo.svc.cluster.local. 30 IN A 10.1.2.2",
				"fd00-1--2.ds.demo.svc.cluster.local. 30 IN AAAA fd00:1::2",
			}},
		{name: "not-ready endpoints published", qname: "_peer._tcp.peers.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_peer._tcp.peers.demo.svc.cluster.local. 30 IN SRV 0 100 7000 peer-0.peers.demo.svc.cluster.local."},
			extra:  []string{"peer-0.peers.demo.svc.cluster.local. 30 IN A 10.1.1.1"}},
		{name: "SRV of an endpoint name", qname: "db-0.db.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"db-0.db.demo.svc.cluster.local. 30 IN SRV 0 100 3306 db-0.db.demo.svc.cluster.local."},
			extra:  []string{"db-0.db.demo.svc.cluster.local. 30 IN A 10.1.0.1"}},
		{name: "headless without ports: SRV is NODATA", qname: "noports.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			ns: []string{soa}},
		{name: "headless without ready endpoints", qname: "_web._tcp.empty.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
	})
}

func TestAnswerHeadless(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	runQueries(t, c, []query{
		{name: "A of the ready endpoints, across slices", qname: "db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{
				"db.demo.svc.cluster.local. 30 IN A 10.1.0.1",
				"db.demo.svc.cluster.local. 30 IN A 10.1.0.2",
				"db.demo.svc.cluster.local. 30 IN A 10.1.0.3",
			}},
		{name: "AAAA of IPv4 endpoints is NODATA", qname: "db.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			ns: []string{soa}},
		{name: "hostname", qname: "db-0.db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"db-0.db.demo.svc.cluster.local. 30 IN A 10.1.0.1"}},
		{name: "hostname, ready condition unset", qname: "db-1.db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"db-1.db.demo.svc.cluster.local. 30 IN A 10.1.0.2"}},
		{name: "hostname mixed case", qname: "DB-0.DB.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"DB-0.DB.demo.svc.cluster.local. 30 IN A 10.1.0.1"}},
		{name: "dashed IP without hostname", qname: "10-1-0-3.db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-1-0-3.db.demo.svc.cluster.local. 30 IN A 10.1.0.3"}},
		{name: "hostname of a not-ready endpoint", qname: "db-3.db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "endpoint name, other type", qname: "db-0.db.demo.svc.cluster.local.", qtype: mdns.TypeTXT,
			ns: []string{soa}},
		{name: "unknown endpoint", qname: "db-9.db.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "no ready endpoint is NXDOMAIN", qname: "empty.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "no ready endpoint is NXDOMAIN for AAAA too", qname: "empty.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "publishNotReadyAddresses", qname: "peers.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"peers.demo.svc.cluster.local. 30 IN A 10.1.1.1"}},
		{name: "publishNotReadyAddresses hostname", qname: "peer-0.peers.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"peer-0.peers.demo.svc.cluster.local. 30 IN A 10.1.1.1"}},
		{name: "tolerate-unready annotation", qname: "tolerant.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"tolerant.demo.svc.cluster.local. 30 IN A 10.1.4.1"}},
		{name: "dual stack A", qname: "ds.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{
				"ds.demo.svc.cluster.local. 30 IN A 10.1.2.1",
				"ds.demo.svc.cluster.local. 30 IN A 10.1.2.2",
			}},
		{name: "dual stack AAAA", qname: "ds.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{
				"ds.demo.svc.cluster.local. 30 IN AAAA fd00:1::1",
				"ds.demo.svc.cluster.local. 30 IN AAAA fd00:1::2",
			}},
		{name: "dual stack hostname A", qname: "ds-0.ds.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"ds-0.ds.demo.svc.cluster.local. 30 IN A 10.1.2.1"}},
		{name: "dual stack hostname AAAA", qname: "ds-0.ds.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"ds-0.ds.demo.svc.cluster.local. 30 IN AAAA fd00:1::1"}},
		{name: "dashed IPv6", qname: "fd00-1--2.ds.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"fd00-1--2.ds.demo.svc.cluster.local. 30 IN AAAA fd00:1::2"}},
		{name: "headless without ports", qname: "noports.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"noports.demo.svc.cluster.local. 30 IN A 10.1.3.1"}},
	})
}

func TestAnswerExternalName(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	runQueries(t, c, []query{
		{name: "CNAME", qname: "ext.demo.svc.cluster.local.", qtype: mdns.TypeCNAME,
			answer: []string{"ext.demo.svc.cluster.local. 30 IN CNAME foo.example.com."}},
		{name: "A: the CNAME only, outside target not chased", qname: "ext.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"ext.demo.svc.cluster.local. 30 IN CNAME foo.example.com."}},
		{name: "any type: the CNAME", qname: "ext.demo.svc.cluster.local.", qtype: mdns.TypeTXT,
			answer: []string{"ext.demo.svc.cluster.local. 30 IN CNAME foo.example.com."}},
		{name: "target inside the zone is followed", qname: "alias.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{
				"alias.demo.svc.cluster.local. 30 IN CNAME web.demo.svc.cluster.local.",
				"web.demo.svc.cluster.local. 30 IN A 10.96.0.20",
			}},
		{name: "followed target without records of the type", qname: "alias.demo.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"alias.demo.svc.cluster.local. 30 IN CNAME web.demo.svc.cluster.local."}},
		{name: "CNAME loop stops", qname: "loop.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"loop.demo.svc.cluster.local. 30 IN CNAME loop.demo.svc.cluster.local."}},
		{name: "IP as externalName is skipped, as CoreDNS", qname: "byip.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "no endpoint names", qname: "x.ext.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "no SRV names", qname: "_http._tcp.ext.demo.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
	})
}

func TestAnswerStructure(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	nx := func(name, qname string) query {
		return query{name: name, qname: qname, qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soa}}
	}
	nodata := func(name, qname string, qtype uint16) query {
		return query{name: name, qname: qname, qtype: qtype, ns: []string{soa}}
	}
	runQueries(t, c, []query{
		{name: "dns-version", qname: "dns-version.cluster.local.", qtype: mdns.TypeTXT,
			answer: []string{`dns-version.cluster.local. 28800 IN TXT "1.1.0"`}},
		nodata("dns-version A", "dns-version.cluster.local.", mdns.TypeA),
		nodata("namespace", "demo.svc.cluster.local.", mdns.TypeA),
		nodata("namespace mixed case", "Demo.Svc.Cluster.Local.", mdns.TypeA),
		nx("unknown namespace", "kubernetes.svc.cluster.local."),
		nodata("svc", "svc.cluster.local.", mdns.TypeA),
		nodata("pod", "pod.cluster.local.", mdns.TypeA),
		nodata("apex", "cluster.local.", mdns.TypeA),
		nodata("apex NS", "cluster.local.", mdns.TypeNS),
		{name: "apex SOA", qname: "cluster.local.", qtype: mdns.TypeSOA, answer: []string{soa}},
		nx("not svc or pod", "foo.cluster.local."),
		nx("not svc or pod, two labels", "web.demo.cluster.local."),
		nx("too long", "a._http._tcp.web.demo.svc.cluster.local."),
		nx("too long endpoint", "x.db-0.db.demo.svc.cluster.local."),
		nx("search path leftover", "kubernetes.default.demo.svc.cluster.local."),
		nx("too long pod", "x.10-1-0-1.demo.pod.cluster.local."),
		nx("pods disabled", "10-1-0-1.demo.pod.cluster.local."),
		nx("pods disabled namespace", "demo.pod.cluster.local."),
		{name: "outside the zone", qname: "example.com.", qtype: mdns.TypeA, noAnswer: true},
		{name: "zone as a label elsewhere", qname: "cluster.local.example.com.", qtype: mdns.TypeA, noAnswer: true},
		{name: "suffix without a dot", qname: "mycluster.local.", qtype: mdns.TypeA, noAnswer: true},
	})
}

func TestAnswerTTL(t *testing.T) {
	c := newTestCluster(t, Config{TTL: 600}, world()...)
	runQueries(t, c, []query{
		{name: "answers carry the TTL", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"web.demo.svc.cluster.local. 600 IN A 10.96.0.20"}},
		{name: "the SOA record's TTL is capped at 300", qname: "nope.demo.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError,
			ns:    []string{"cluster.local. 300 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 600"}},
		{name: "dns-version keeps 28800", qname: "dns-version.cluster.local.", qtype: mdns.TypeTXT,
			answer: []string{`dns-version.cluster.local. 28800 IN TXT "1.1.0"`}},
	})
}

func TestAnswerOtherZone(t *testing.T) {
	c := newTestCluster(t, Config{Zone: "Example.Internal."}, world()...)
	runQueries(t, c, []query{
		{name: "A", qname: "web.demo.svc.example.internal.", qtype: mdns.TypeA,
			answer: []string{"web.demo.svc.example.internal. 30 IN A 10.96.0.20"}},
		{name: "NXDOMAIN with the zone's SOA", qname: "nope.demo.svc.example.internal.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError,
			ns:    []string{"example.internal. 30 IN SOA ns.dns.example.internal. hostmaster.example.internal. 1700000000 7200 1800 86400 30"}},
		{name: "cluster.local is not ours", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeA, noAnswer: true},
	})
}

func TestAnswerPods(t *testing.T) {
	objs := append(world(), testPod("demo", "p1", corev1.PodRunning, "10.1.0.1", "fd00:1::1"))
	insecure := newTestCluster(t, Config{Pods: PodsInsecure}, objs...)
	runQueries(t, insecure, []query{
		{name: "insecure A", qname: "10-9-8-7.demo.pod.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-9-8-7.demo.pod.cluster.local. 30 IN A 10.9.8.7"}},
		{name: "insecure AAAA of IPv4 is NODATA", qname: "10-9-8-7.demo.pod.cluster.local.", qtype: mdns.TypeAAAA,
			ns: []string{soa}},
		{name: "insecure TXT is NODATA", qname: "10-9-8-7.demo.pod.cluster.local.", qtype: mdns.TypeTXT,
			ns: []string{soa}},
		{name: "insecure AAAA", qname: "fd00--7.demo.pod.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"fd00--7.demo.pod.cluster.local. 30 IN AAAA fd00::7"}},
		{name: "insecure not an IP", qname: "web.demo.pod.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "insecure unknown namespace", qname: "10-9-8-7.nope.pod.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "insecure namespace", qname: "demo.pod.cluster.local.", qtype: mdns.TypeA,
			ns: []string{soa}},
	})
	verified := newTestCluster(t, Config{Pods: PodsVerified}, objs...)
	runQueries(t, verified, []query{
		{name: "verified A", qname: "10-1-0-1.demo.pod.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-1-0-1.demo.pod.cluster.local. 30 IN A 10.1.0.1"}},
		{name: "verified AAAA", qname: "fd00-1--1.demo.pod.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"fd00-1--1.demo.pod.cluster.local. 30 IN AAAA fd00:1::1"}},
		{name: "verified other namespace", qname: "10-1-0-1.default.pod.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
		{name: "verified unknown IP", qname: "10-9-8-7.demo.pod.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, ns: []string{soa}},
	})
}

func TestAnswerReverse(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	rev := func(ip string) string {
		name, err := mdns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		return name
	}
	ptr := func(ip, target string) string { return rev(ip) + " 30 IN PTR " + target }
	runQueries(t, c, []query{
		{name: "ClusterIP", qname: rev("10.96.0.20"), qtype: mdns.TypePTR,
			answer: []string{ptr("10.96.0.20", "web.demo.svc.cluster.local.")}},
		{name: "IPv6 ClusterIP", qname: rev("fd00:96::30"), qtype: mdns.TypePTR,
			answer: []string{ptr("fd00:96::30", "dual.demo.svc.cluster.local.")}},
		{name: "endpoint hostname", qname: rev("10.1.0.1"), qtype: mdns.TypePTR,
			answer: []string{ptr("10.1.0.1", "db-0.db.demo.svc.cluster.local.")}},
		{name: "endpoint without hostname", qname: rev("10.1.0.3"), qtype: mdns.TypePTR,
			answer: []string{ptr("10.1.0.3", "10-1-0-3.db.demo.svc.cluster.local.")}},
		{name: "endpoint of two Services: one name per Service", qname: rev("10.1.0.10"), qtype: mdns.TypePTR,
			answer: []string{
				ptr("10.1.0.10", "10-1-0-10.web.demo.svc.cluster.local."),
				ptr("10.1.0.10", "w0.webalt.demo.svc.cluster.local."),
			}},
		{name: "IPv6 endpoint", qname: rev("fd00:1::1"), qtype: mdns.TypePTR,
			answer: []string{ptr("fd00:1::1", "ds-0.ds.demo.svc.cluster.local.")}},
		{name: "IPv6 endpoint without hostname", qname: rev("fd00:1::2"), qtype: mdns.TypePTR,
			answer: []string{ptr("fd00:1::2", "fd00-1--2.ds.demo.svc.cluster.local.")}},
		{name: "published not-ready endpoint", qname: rev("10.1.1.1"), qtype: mdns.TypePTR,
			answer: []string{ptr("10.1.1.1", "peer-0.peers.demo.svc.cluster.local.")}},
		{name: "upper case", qname: "20.0.96.10.IN-ADDR.ARPA.", qtype: mdns.TypePTR,
			answer: []string{"20.0.96.10.IN-ADDR.ARPA. 30 IN PTR web.demo.svc.cluster.local."}},
		{name: "known address, other type: NODATA", qname: rev("10.96.0.20"), qtype: mdns.TypeA,
			ns: []string{"in-addr.arpa. 30 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1700000000 7200 1800 86400 30"}},
		{name: "not-ready endpoint falls through", qname: rev("10.1.0.4"), qtype: mdns.TypePTR, noAnswer: true},
		{name: "endpoint of a missing Service falls through", qname: rev("10.1.5.1"), qtype: mdns.TypePTR, noAnswer: true},
		{name: "unknown address falls through", qname: rev("8.8.8.8"), qtype: mdns.TypePTR, noAnswer: true},
		{name: "partial name falls through", qname: "96.10.in-addr.arpa.", qtype: mdns.TypePTR, noAnswer: true},
		{name: "zone apex falls through", qname: "in-addr.arpa.", qtype: mdns.TypeSOA, noAnswer: true},
	})
}

func TestAnswerBeforeReady(t *testing.T) {
	c := New(Config{})
	c.idx.set(namespace("demo"))
	c.idx.set(clusterIPService("demo", "web", []string{"10.96.0.20"}, servicePort("http", "TCP", 80)))
	servfail := func(name, qname string, qtype uint16) query {
		return query{name: name, qname: qname, qtype: qtype, rcode: mdns.RcodeServerFailure}
	}
	runQueries(t, c, []query{
		servfail("known name", "web.demo.svc.cluster.local.", mdns.TypeA),
		servfail("unknown name", "nope.demo.svc.cluster.local.", mdns.TypeA),
		servfail("dns-version", "dns-version.cluster.local.", mdns.TypeTXT),
		servfail("reverse", "20.0.96.10.in-addr.arpa.", mdns.TypePTR),
		{name: "outside the zone", qname: "example.com.", qtype: mdns.TypeA, noAnswer: true},
		{name: "partial reverse name", qname: "10.in-addr.arpa.", qtype: mdns.TypePTR, noAnswer: true},
	})
}
