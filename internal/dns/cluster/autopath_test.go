package cluster

// autopath_test.go: search path completion with a fake Forwarder.

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

// fakeForwarder answers from zone-file lines keyed by lowercase name;
// names it does not know are NXDOMAIN, names in fail are errors. It
// records the names asked.
type fakeForwarder struct {
	records map[string][]string
	fail    map[string]bool
	mu      sync.Mutex
	asked   []string
}

// Forward implements dns.Forwarder.
func (f *fakeForwarder) Forward(_ context.Context, req *mdns.Msg) (*mdns.Msg, error) {
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	f.mu.Lock()
	f.asked = append(f.asked, name)
	f.mu.Unlock()
	if f.fail[name] {
		return nil, errors.New("upstream timeout")
	}
	m := new(mdns.Msg).SetReply(req)
	m.SetEdns0(1232, false)
	lines, ok := f.records[name]
	if !ok {
		m.Rcode = mdns.RcodeNameError
		return m, nil
	}
	for _, l := range lines {
		rr, err := mdns.NewRR(l)
		if err != nil {
			return nil, err
		}
		if rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	return m, nil
}

func TestAutopath(t *testing.T) {
	fwd := &fakeForwarder{
		records: map[string][]string{
			"google.com.":  {"google.com. 120 IN A 142.250.0.1", "google.com. 120 IN AAAA 2a00:1450::1"},
			"ipv4only.io.": {"ipv4only.io. 60 IN A 192.0.2.1"},
		},
		fail: map[string]bool{"flaky.io.": true},
	}
	objs := append(world(),
		testPod("demo", "client", corev1.PodRunning, "10.2.0.5"),
		testPod("demo", "starting", corev1.PodPending, "10.2.0.6"),
		testPod("kube-system", "hostnet-a", corev1.PodRunning, "192.168.0.1"),
		testPod("monitoring", "hostnet-b", corev1.PodRunning, "192.168.0.1"),
	)
	c := newTestCluster(t, Config{Autopath: true, Forwarder: fwd}, objs...)
	const pod = "10.2.0.5"
	nx := func(name, qname, client string) query {
		return query{name: name, qname: qname, qtype: mdns.TypeA, client: client, rcode: mdns.RcodeNameError, ns: []string{soa}}
	}
	runQueries(t, c, []query{
		{name: "found in the pod's namespace: no autopath", qname: "web.demo.svc.cluster.local.", qtype: mdns.TypeA, client: pod,
			answer: []string{"web.demo.svc.cluster.local. 30 IN A 10.96.0.20"}},
		{name: "svc.<zone>: name.namespace", qname: "kubernetes.default.demo.svc.cluster.local.", qtype: mdns.TypeA, client: pod,
			answer: []string{
				"kubernetes.default.demo.svc.cluster.local. 30 IN CNAME kubernetes.default.svc.cluster.local.",
				"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1",
			}},
		{name: "case of the question kept", qname: "Kubernetes.Default.demo.svc.cluster.local.", qtype: mdns.TypeA, client: pod,
			answer: []string{
				"Kubernetes.Default.demo.svc.cluster.local. 30 IN CNAME Kubernetes.Default.svc.cluster.local.",
				"Kubernetes.Default.svc.cluster.local. 30 IN A 10.96.0.1",
			}},
		{name: "SRV through the search path", qname: "_https._tcp.kubernetes.default.demo.svc.cluster.local.", qtype: mdns.TypeSRV, client: pod,
			answer: []string{
				"_https._tcp.kubernetes.default.demo.svc.cluster.local. 30 IN CNAME _https._tcp.kubernetes.default.svc.cluster.local.",
				"_https._tcp.kubernetes.default.svc.cluster.local. 30 IN SRV 0 100 443 kubernetes.default.svc.cluster.local.",
			},
			extra: []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1"}},
		{name: "<zone>: dns-version", qname: "dns-version.demo.svc.cluster.local.", qtype: mdns.TypeTXT, client: pod,
			answer: []string{
				"dns-version.demo.svc.cluster.local. 28800 IN CNAME dns-version.cluster.local.",
				`dns-version.cluster.local. 28800 IN TXT "1.1.0"`,
			}},
		{name: "NODATA ends the walk, as CoreDNS", qname: "kube-system.demo.svc.cluster.local.", qtype: mdns.TypeA, client: pod,
			ns: []string{soa}},
		{name: "upstream name", qname: "google.com.demo.svc.cluster.local.", qtype: mdns.TypeA, client: pod,
			answer: []string{
				"google.com.demo.svc.cluster.local. 120 IN CNAME google.com.",
				"google.com. 120 IN A 142.250.0.1",
			}},
		{name: "upstream AAAA", qname: "google.com.demo.svc.cluster.local.", qtype: mdns.TypeAAAA, client: pod,
			answer: []string{
				"google.com.demo.svc.cluster.local. 120 IN CNAME google.com.",
				"google.com. 120 IN AAAA 2a00:1450::1",
			}},
		{name: "upstream NODATA: no CNAME", qname: "ipv4only.io.demo.svc.cluster.local.", qtype: mdns.TypeAAAA, client: pod},
		nx("upstream NXDOMAIN: the original NXDOMAIN", "nothing.demo.svc.cluster.local.", pod),
		nx("upstream error: the original NXDOMAIN", "flaky.io.demo.svc.cluster.local.", pod),
		nx("unknown client", "google.com.demo.svc.cluster.local.", "10.9.9.9"),
		nx("pod not running", "google.com.demo.svc.cluster.local.", "10.2.0.6"),
		nx("IP of pods in several namespaces", "google.com.kube-system.svc.cluster.local.", "192.168.0.1"),
		nx("another namespace than the pod's", "google.com.default.svc.cluster.local.", pod),
		nx("not a search path name", "google.com.cluster.local.", pod),
	})
}

func TestAutopathForwarded(t *testing.T) {
	fwd := &fakeForwarder{records: map[string][]string{"google.com.": {"google.com. 120 IN A 142.250.0.1"}}}
	c := newTestCluster(t, Config{Autopath: true, Forwarder: fwd}, append(world(),
		testPod("demo", "client", corev1.PodRunning, "10.2.0.5"))...)
	checkQuery(t, c, query{qname: "google.com.demo.svc.cluster.local.", qtype: mdns.TypeA, client: "10.2.0.5",
		answer: []string{
			"google.com.demo.svc.cluster.local. 120 IN CNAME google.com.",
			"google.com. 120 IN A 142.250.0.1",
		}})
	want := []string{"google.com."}
	if strings.Join(fwd.asked, " ") != strings.Join(want, " ") {
		t.Errorf("forwarded %q, want %q: the cluster names are answered locally", fwd.asked, want)
	}
}

func TestAutopathWithoutForwarder(t *testing.T) {
	c := newTestCluster(t, Config{Autopath: true}, append(world(),
		testPod("demo", "client", corev1.PodRunning, "10.2.0.5"))...)
	runQueries(t, c, []query{
		{name: "cluster names still walked", qname: "web.demo.demo.svc.cluster.local.", qtype: mdns.TypeA, client: "10.2.0.5",
			answer: []string{
				"web.demo.demo.svc.cluster.local. 30 IN CNAME web.demo.svc.cluster.local.",
				"web.demo.svc.cluster.local. 30 IN A 10.96.0.20",
			}},
		{name: "no upstream step", qname: "google.com.demo.svc.cluster.local.", qtype: mdns.TypeA, client: "10.2.0.5",
			rcode: mdns.RcodeNameError, ns: []string{soa}},
	})
}

func TestAutopathOff(t *testing.T) {
	fwd := &fakeForwarder{records: map[string][]string{"google.com.": {"google.com. 120 IN A 142.250.0.1"}}}
	c := newTestCluster(t, Config{Pods: PodsVerified, Forwarder: fwd}, append(world(),
		testPod("demo", "client", corev1.PodRunning, "10.2.0.5"))...)
	checkQuery(t, c, query{qname: "google.com.demo.svc.cluster.local.", qtype: mdns.TypeA, client: "10.2.0.5",
		rcode: mdns.RcodeNameError, ns: []string{soa}})
	if len(fwd.asked) != 0 {
		t.Errorf("forwarded %q without autopath", fwd.asked)
	}
}

// cachingForwarder is a fakeForwarder that also answers Cached for the
// names in cached.
type cachingForwarder struct {
	fakeForwarder
	cached map[string]bool
}

// Cached implements dns.CachedForwarder.
func (f *cachingForwarder) Cached(req *mdns.Msg) *mdns.Msg {
	if !f.cached[strings.ToLower(req.Question[0].Name)] {
		return nil
	}
	m, _ := f.Forward(context.Background(), req)
	return m
}

// TestAutopathQuick: AnswerQuick walks the search path without waiting:
// it says it would wait when the last element is not cached upstream,
// and answers when it is or when a cluster element answers.
func TestAutopathQuick(t *testing.T) {
	records := map[string][]string{
		"google.com.":  {"google.com. 120 IN A 142.250.0.1"},
		"example.org.": {"example.org. 120 IN A 192.0.2.7"},
	}
	objs := append(world(), testPod("demo", "client", corev1.PodRunning, "10.2.0.5"))
	client := netip.MustParseAddr("10.2.0.5")
	ask := func(c *Cluster, name string) (*mdns.Msg, bool) {
		return c.AnswerQuick(context.Background(), new(mdns.Msg).SetQuestion(name, mdns.TypeA), client)
	}

	fwd := &cachingForwarder{fakeForwarder: fakeForwarder{records: records}, cached: map[string]bool{"google.com.": true}}
	c := newTestCluster(t, Config{Autopath: true, Forwarder: fwd}, objs...)
	if m, ok := ask(c, "google.com.demo.svc.cluster.local."); !ok || m == nil || len(m.Answer) != 2 {
		t.Errorf("cached upstream name: %v, ok %v; want CNAME and A", m, ok)
	}
	if m, ok := ask(c, "example.org.demo.svc.cluster.local."); ok {
		t.Errorf("uncached upstream name: %v, ok; want would wait", m)
	}
	if m, ok := ask(c, "web.demo.demo.svc.cluster.local."); !ok || m == nil || len(m.Answer) != 2 {
		t.Errorf("cluster element: %v, ok %v; want CNAME and A", m, ok)
	}
	if len(fwd.asked) != 1 {
		t.Errorf("forwarded %q; want only the cached answer read", fwd.asked)
	}

	plain := newTestCluster(t, Config{Autopath: true, Forwarder: &fakeForwarder{records: records}}, objs...)
	if m, ok := ask(plain, "google.com.demo.svc.cluster.local."); ok {
		t.Errorf("forwarder without a cache: %v, ok; want would wait", m)
	}
	if m := plain.Answer(context.Background(), new(mdns.Msg).SetQuestion("google.com.demo.svc.cluster.local.", mdns.TypeA), client); m == nil || len(m.Answer) != 2 {
		t.Errorf("Answer: %v; want CNAME and A", m)
	}
}
