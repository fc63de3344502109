package cluster

// index_test.go: incremental updates of the index, seen through answers,
// and its concurrency (run with -race).

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

func TestIndexUpdates(t *testing.T) {
	mysql := []discoveryv1.EndpointPort{slicePort("mysql", "TCP", 3306)}
	db := headlessService("demo", "db", false, servicePort("mysql", "TCP", 3306))
	c := newTestCluster(t, Config{}, namespace("demo"), db,
		endpointSlice("demo", "db-a", "db", mysql, readyEP("10.1.0.1", "db-0"), readyEP("10.1.0.2", "db-1")),
		endpointSlice("demo", "db-b", "db", mysql, readyEP("10.1.0.3", "db-2")),
	)
	a := func(name string, ips ...string) query {
		q := query{name: name, qname: "db.demo.svc.cluster.local.", qtype: mdns.TypeA}
		for _, ip := range ips {
			q.answer = append(q.answer, "db.demo.svc.cluster.local. 30 IN A "+ip)
		}
		if len(ips) == 0 {
			q.rcode, q.ns = mdns.RcodeNameError, []string{soa}
		}
		return q
	}
	ptr := func(name, ip, target string) query {
		rev, _ := mdns.ReverseAddr(ip)
		q := query{name: name, qname: rev, qtype: mdns.TypePTR, noAnswer: target == ""}
		if target != "" {
			q.answer = []string{rev + " 30 IN PTR " + target}
		}
		return q
	}
	steps := []struct {
		name    string
		set     []any
		remove  []any
		queries []query
	}{
		{name: "two slices merged",
			queries: []query{a("A", "10.1.0.1", "10.1.0.2", "10.1.0.3"), ptr("PTR", "10.1.0.2", "db-1.db.demo.svc.cluster.local.")}},
		{name: "endpoint turns not ready",
			set:     []any{endpointSlice("demo", "db-a", "db", mysql, readyEP("10.1.0.1", "db-0"), notReadyEP("10.1.0.2", "db-1"))},
			queries: []query{a("A", "10.1.0.1", "10.1.0.3"), ptr("PTR", "10.1.0.2", "")}},
		{name: "service publishes not-ready addresses",
			set:     []any{headlessService("demo", "db", true, servicePort("mysql", "TCP", 3306))},
			queries: []query{a("A", "10.1.0.1", "10.1.0.2", "10.1.0.3"), ptr("PTR", "10.1.0.2", "db-1.db.demo.svc.cluster.local.")}},
		{name: "slice relabelled to another service",
			set:     []any{endpointSlice("demo", "db-b", "other", mysql, readyEP("10.1.0.3", "db-2"))},
			queries: []query{a("A", "10.1.0.1", "10.1.0.2"), ptr("PTR", "10.1.0.3", "")}},
		{name: "slice deleted through a tombstone",
			remove:  []any{cache.DeletedFinalStateUnknown{Key: "demo/db-a", Obj: endpointSlice("demo", "db-a", "db", nil)}},
			queries: []query{a("A"), ptr("PTR", "10.1.0.1", "")}},
		{name: "service becomes ClusterIP",
			set:     []any{clusterIPService("demo", "db", []string{"10.96.0.9"}, servicePort("mysql", "TCP", 3306))},
			queries: []query{a("A", "10.96.0.9"), ptr("PTR", "10.96.0.9", "db.demo.svc.cluster.local.")}},
		{name: "cluster IP changes",
			set:     []any{clusterIPService("demo", "db", []string{"10.96.0.10"}, servicePort("mysql", "TCP", 3306))},
			queries: []query{a("A", "10.96.0.10"), ptr("old PTR", "10.96.0.9", ""), ptr("new PTR", "10.96.0.10", "db.demo.svc.cluster.local.")}},
		{name: "service deleted",
			remove:  []any{db},
			queries: []query{a("A"), ptr("PTR", "10.96.0.10", "")}},
		{name: "namespace deleted",
			remove: []any{namespace("demo")},
			queries: []query{{name: "namespace", qname: "demo.svc.cluster.local.", qtype: mdns.TypeA,
				rcode: mdns.RcodeNameError, ns: []string{soa}}}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			for _, o := range step.set {
				c.idx.set(o)
			}
			for _, o := range step.remove {
				c.idx.remove(o)
			}
			for _, q := range step.queries {
				checkQuery(t, c, q)
			}
		})
	}
	if st := c.Stats(); st != (Stats{EndpointSlices: 1, Endpoints: 1}) {
		t.Errorf("Stats() = %+v, want only the relabelled slice", st)
	}
}

func TestIndexStats(t *testing.T) {
	c := newTestCluster(t, Config{}, world()...)
	c.idx.set(testPod("demo", "p1", corev1.PodRunning, "10.2.0.1"))
	want := Stats{Namespaces: 3, Services: 17, EndpointSlices: 11, Endpoints: 16, Pods: 1}
	if got := c.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestIndexPods(t *testing.T) {
	x := newIndex()
	ip := netip.MustParseAddr("10.2.0.5")
	node := netip.MustParseAddr("192.168.0.1")
	x.set(testPod("demo", "client", corev1.PodRunning, "10.2.0.5"))
	x.set(testPod("demo", "starting", corev1.PodPending, "10.2.0.6"))
	x.set(testPod("kube-system", "hostnet-a", corev1.PodRunning, "192.168.0.1"))
	x.set(testPod("monitoring", "hostnet-b", corev1.PodRunning, "192.168.0.1"))
	tests := []struct {
		name   string
		ip     netip.Addr
		wantNS string
	}{
		{"running pod", ip, "demo"},
		{"pending pod", netip.MustParseAddr("10.2.0.6"), ""},
		{"host network pods of several namespaces", node, ""},
		{"unknown", netip.MustParseAddr("10.9.9.9"), ""},
	}
	for _, tt := range tests {
		ns, ok := x.podNamespace(tt.ip)
		if ns != tt.wantNS || ok != (tt.wantNS != "") {
			t.Errorf("%s: podNamespace(%v) = %q, %v; want %q", tt.name, tt.ip, ns, ok, tt.wantNS)
		}
	}
	if !x.podExists(netip.MustParseAddr("10.2.0.6"), "demo") || x.podExists(ip, "default") {
		t.Errorf("podExists is wrong for pending pod or other namespace")
	}
	x.set(testPod("demo", "client", corev1.PodSucceeded, "10.2.0.5"))
	if x.podExists(ip, "demo") {
		t.Errorf("a succeeded pod is still indexed")
	}
	x.remove(testPod("monitoring", "hostnet-b", corev1.PodRunning))
	if ns, ok := x.podNamespace(node); ns != "kube-system" || !ok {
		t.Errorf("podNamespace after delete = %q, %v; want kube-system", ns, ok)
	}
}

// TestIndexConcurrency answers while handlers write; it is meant for -race.
func TestIndexConcurrency(t *testing.T) {
	c := newTestCluster(t, Config{Pods: PodsVerified}, world()...)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 200 {
			ip := fmt.Sprintf("10.7.%d.%d", i/250, i%250+1)
			c.idx.set(endpointSlice("demo", "db-c", "db", nil, readyEP(ip, "")))
			c.idx.set(clusterIPService("demo", "churn", []string{fmt.Sprintf("10.96.1.%d", i%250+1)}))
			c.idx.set(testPod("demo", "p", corev1.PodRunning, ip))
		}
	}()
	go func() {
		defer wg.Done()
		client := netip.MustParseAddr("10.7.0.1")
		for range 200 {
			for _, q := range []struct {
				name  string
				qtype uint16
			}{
				{"db.demo.svc.cluster.local.", mdns.TypeA},
				{"_mysql._tcp.db.demo.svc.cluster.local.", mdns.TypeSRV},
				{"churn.demo.svc.cluster.local.", mdns.TypeA},
				{"1.0.7.10.in-addr.arpa.", mdns.TypePTR},
				{"10-7-0-1.demo.pod.cluster.local.", mdns.TypeA},
			} {
				c.Answer(ctx, new(mdns.Msg).SetQuestion(q.name, q.qtype), client)
			}
			c.Stats()
		}
	}()
	wg.Wait()
}

// TestIndexDuplicateAddress: an address in two slices of one Service (as
// while endpoints move between slices) is answered once, and its reverse
// name stays while either copy is ready.
func TestIndexDuplicateAddress(t *testing.T) {
	for _, order := range [][2]string{{"a", "b"}, {"b", "a"}} {
		c := newTestCluster(t, Config{}, namespace("demo"), headlessService("demo", "db", false),
			endpointSlice("demo", "db-"+order[0], "db", nil, readyEP("10.1.0.1", "db-0")),
			endpointSlice("demo", "db-"+order[1], "db", nil, notReadyEP("10.1.0.1", "db-0"), readyEP("10.1.0.1", "db-0")),
		)
		runQueries(t, c, []query{
			{name: "A once", qname: "db.demo.svc.cluster.local.", qtype: mdns.TypeA,
				answer: []string{"db.demo.svc.cluster.local. 30 IN A 10.1.0.1"}},
			{name: "PTR", qname: "1.0.1.10.in-addr.arpa.", qtype: mdns.TypePTR,
				answer: []string{"1.0.1.10.in-addr.arpa. 30 IN PTR db-0.db.demo.svc.cluster.local."}},
		})
	}
}
