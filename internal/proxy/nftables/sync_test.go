package nftables

import (
	"context"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// partial marks st partial, with every service port of the states
// before and after as changed.
func partial(st *proxy.State, before *proxy.State) *proxy.State {
	st.Full = false
	st.Changed = map[proxy.ServicePortName]bool{}
	for _, s := range append(append([]*proxy.ServiceState{}, st.Services...), before.Services...) {
		st.Changed[s.Name] = true
	}
	return st
}

// fullDump is what a new backend writes for st in one full sync.
func fullDump(t *testing.T, st *proxy.State) string {
	t.Helper()
	b, fake := newTestBackend(t)
	full := *st
	full.Full = true
	if err := b.Sync(context.Background(), &full); err != nil {
		t.Fatal(err)
	}
	return fake.Dump()
}

// steps are states a cluster goes through; each partial sync must leave
// exactly what a full sync of the same state writes.
func steps() []struct {
	name     string
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
} {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	rr := proxytest.OverallServices()[3].DeepCopy()
	rr.Namespace = "ns7"
	rr.Spec.ClusterIP, rr.Spec.ClusterIPs = "172.30.0.47", []string{"172.30.0.47"}
	rr.Spec.ExternalIPs = nil
	rr.Annotations = map[string]string{proxy.SchedulerAnnotation: "rr"}
	rrSlice := slices[3].DeepCopy()
	rrSlice.Namespace = "ns7"
	return []struct {
		name     string
		services []*corev1.Service
		slices   []*discoveryv1.EndpointSlice
	}{
		{"start", svcs, slices},
		{"ns1 loses its endpoint, ns4 one of two", svcs, []*discoveryv1.EndpointSlice{slices[1], slices[2], onlyFirst(slices[3]), slices[4]}},
		{"endpoints come back", svcs, slices},
		{"ns7 with round robin", append(svcs, rr), append(slices, rrSlice)},
		{"ns5 and ns7 go", []*corev1.Service{svcs[0], svcs[1], svcs[2], svcs[3], svcs[5]}, slices[:4]},
	}
}

// sortedLines sorts a dump's lines: the fake keeps elements in the order
// they were added.
func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return lines
}

func onlyFirst(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	c := s.DeepCopy()
	c.Endpoints = c.Endpoints[:1]
	return c
}

// stepStates are the States of steps(): the first full, each later one
// partial with every service port of it and the one before as changed.
func stepStates() (names []string, states []*proxy.State) {
	var prev *proxy.State
	for i, step := range steps() {
		st := proxytest.State(step.services, step.slices)
		if i > 0 {
			st = partial(st, prev)
		}
		names, states = append(names, step.name), append(states, st)
		prev = st
	}
	return names, states
}

func TestPartialSyncsEqualFullSyncs(t *testing.T) {
	ctx := context.Background()
	b, fake := newTestBackend(t)
	names, states := stepStates()
	for i, st := range states {
		if err := b.Sync(ctx, st); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		if d := cmp.Diff(sortedLines(fullDump(t, st)), sortedLines(fake.Dump())); d != "" {
			t.Errorf("%s: partial sync differs from a full one (-full +partial):\n%s", names[i], d)
		}
	}
}

func TestPartialSyncIsSmall(t *testing.T) {
	ctx := context.Background()
	b, fake := newTestBackend(t)
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	st := proxytest.State(svcs, slices)
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	// ns4 loses one of its two endpoints.
	next := proxytest.State(svcs, []*discoveryv1.EndpointSlice{slices[0], slices[1], slices[2], onlyFirst(slices[3]), slices[4]})
	next.Full = false
	n := proxy.ServicePortName{Port: "p80", Protocol: corev1.ProtocolTCP}
	n.Namespace, n.Name = "ns4", "svc4"
	next.Changed = map[proxy.ServicePortName]bool{n: true}
	if err := b.Sync(ctx, next); err != nil {
		t.Fatal(err)
	}
	got := fake.LastTransaction.String()
	want := strings.Join([]string{
		"delete element ip svcplane endpoints-cluster-tcp { 172.30.0.44 . 80 . 1 }",
		"delete element ip svcplane endpoints-cluster-tcp { 192.168.99.33 . 80 . 1 }",
		"delete element ip svcplane hairpin { 10.180.0.5 . 10.180.0.5 }",
		"delete element ip svcplane lb-cluster { 172.30.0.44 . tcp . 80 }",
		"delete element ip svcplane lb-cluster { 192.168.99.33 . tcp . 80 }",
		"add element ip svcplane lb-cluster { 172.30.0.44 . tcp . 80 : goto cluster-tcp-random-1 }",
		"add element ip svcplane lb-cluster { 192.168.99.33 . tcp . 80 : goto cluster-tcp-random-1 }",
		"delete chain ip svcplane cluster-tcp-random-2",
		"",
	}, "\n")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("partial transaction (-want +got):\n%s", d)
	}
}

func TestFailedSyncMakesNextFull(t *testing.T) {
	ctx := context.Background()
	b, fake := newTestBackend(t)
	st := proxytest.OverallState()
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	// Someone deletes the table: the partial sync fails, the next is full.
	tx := fake.NewTransaction()
	tx.Delete(&knftablesTable)
	if err := fake.Run(ctx, tx); err != nil {
		t.Fatal(err)
	}
	step := steps()[1]
	next := partial(proxytest.State(step.services, step.slices), st)
	if err := b.Sync(ctx, next); err == nil {
		t.Fatal("partial sync into a missing table succeeded")
	}
	if err := b.Sync(ctx, next); err != nil {
		t.Fatalf("the sync after a failure: %v", err)
	}
	if d := cmp.Diff(sortedLines(fullDump(t, next)), sortedLines(fake.Dump())); d != "" {
		t.Errorf("after recovery (-want +got):\n%s", d)
	}
}

func TestSchedulers(t *testing.T) {
	for _, tc := range []struct{ annotation, rule string }{
		{"", "add rule ip svcplane cluster-tcp-random-2 dnat ip to ip daddr . tcp dport . numgen random mod 2 map @endpoints-cluster-tcp"},
		{"random", "add rule ip svcplane cluster-tcp-random-2 dnat ip to ip daddr . tcp dport . numgen random mod 2 map @endpoints-cluster-tcp"},
		{"rr", "add rule ip svcplane cluster-rr-ns4/svc4/tcp/p80 dnat ip to ip daddr . tcp dport . numgen inc mod 2 map @endpoints-cluster-tcp"},
		{"sh", "add rule ip svcplane cluster-tcp-sh-2 dnat ip to ip daddr . tcp dport . jhash ip saddr mod 2 seed 0x0 map @endpoints-cluster-tcp"},
		{"bogus", "add rule ip svcplane cluster-tcp-random-2 dnat ip to ip daddr . tcp dport . numgen random mod 2 map @endpoints-cluster-tcp"},
	} {
		t.Run(tc.annotation, func(t *testing.T) {
			svcs := proxytest.OverallServices()
			svcs[3].Annotations = map[string]string{proxy.SchedulerAnnotation: tc.annotation}
			b, fake := newTestBackend(t)
			if err := b.Sync(context.Background(), proxytest.State(svcs, proxytest.OverallSlices())); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fake.Dump(), tc.rule) {
				t.Errorf("no rule %q in:\n%s", tc.rule, fake.Dump())
			}
		})
	}
}

func TestConflictingKeysKeepTheFirst(t *testing.T) {
	svcs := proxytest.OverallServices()
	dup := svcs[3].DeepCopy() // ns4/svc4 holds external IP 192.168.99.33:80
	dup.Namespace = "ns9"
	dup.Spec.ClusterIP, dup.Spec.ClusterIPs = "172.30.0.49", []string{"172.30.0.49"}
	slices := proxytest.OverallSlices()
	dupSlice := slices[0].DeepCopy()
	dupSlice.Namespace, dupSlice.Labels[discoveryv1.LabelServiceName] = "ns9", "svc4"
	b, fake := newTestBackend(t)
	if err := b.Sync(context.Background(), proxytest.State(append(svcs, dup), append(slices, dupSlice))); err != nil {
		t.Fatal(err)
	}
	if el := fake.Table.Maps[mapLBCluster].FindElement("192.168.99.33", "tcp", "80"); el == nil || el.Value[0] != "goto cluster-tcp-random-2" {
		t.Errorf("192.168.99.33:80 should stay with ns4/svc4 (two endpoints): %+v", el)
	}
}

// ipv6State is one IPv6 NodePort Service with one endpoint.
func ipv6State() *proxy.State {
	name := proxy.ServicePortName{Port: "http", Protocol: corev1.ProtocolTCP}
	name.Namespace, name.Name = "ns", "v6"
	sp := &proxy.ServicePort{Name: name, ClusterIP: netip.MustParseAddr("fd00:30::1"), Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080}
	return proxy.Build(proxy.Input{
		Family:   corev1.IPv6Protocol,
		Node:     proxy.Node{Name: "n", IPs: []netip.Addr{netip.MustParseAddr("fd00:1::2")}},
		Options:  proxy.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00:10::/64")}},
		Services: map[proxy.ServicePortName]*proxy.ServicePort{name: sp},
		Endpoints: proxy.EndpointsMap{name: {
			{IP: netip.MustParseAddr("fd00:10::5"), Port: 8080, Ready: true, Serving: true, Local: true},
		}},
		Full: true,
	})
}

func TestIPv6(t *testing.T) {
	b, fake := newTestBackend6(t)
	if err := b.Sync(context.Background(), ipv6State()); err != nil {
		t.Fatal(err)
	}
	dump := fake.Dump()
	for _, want := range []string{
		"add map ip6 svcplane service-ips { type ipv6_addr . inet_proto . inet_service : verdict ; }",
		"add element ip6 svcplane endpoints-cluster-tcp { fd00:1::2 . 30080 . 0 : fd00:10::5 . 8080 }",
		"add rule ip6 svcplane cluster-ip ip6 saddr != @cluster-cidrs jump mark-for-masquerade",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("no %q in:\n%s", want, dump)
		}
	}
}

// endpointReplaced is the fixtures, then ns4 with its endpoint 10.180.0.4
// replaced by 10.180.0.6, as a partial State naming ns4 only (its
// endpoints sorted: 10.180.0.5 moves to slot 0).
func endpointReplaced() (first, next *proxy.State) {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	ns4 := slices[3].DeepCopy()
	ns4.Endpoints[0].Addresses = []string{"10.180.0.6"}
	next = proxytest.State(svcs, []*discoveryv1.EndpointSlice{slices[0], slices[1], slices[2], ns4, slices[4]})
	next.Full = false
	n := proxy.ServicePortName{Port: "p80", Protocol: corev1.ProtocolTCP}
	n.Namespace, n.Name = "ns4", "svc4"
	next.Changed = map[proxy.ServicePortName]bool{n: true}
	return proxytest.State(svcs, slices), next
}

// TestEndpointReplaced: replacing an endpoint changes elements of the
// large maps only, which go through the bulk loader.
func TestEndpointReplaced(t *testing.T) {
	ctx := context.Background()
	b, fake := newTestBackend(t)
	first, next := endpointReplaced()
	for _, st := range []*proxy.State{first, next} {
		if err := b.Sync(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	got := fake.LastTransaction.String()
	want := strings.Join([]string{
		"delete element ip svcplane endpoints-cluster-tcp { 172.30.0.44 . 80 . 0 }",
		"delete element ip svcplane endpoints-cluster-tcp { 172.30.0.44 . 80 . 1 }",
		"delete element ip svcplane endpoints-cluster-tcp { 192.168.99.33 . 80 . 0 }",
		"delete element ip svcplane endpoints-cluster-tcp { 192.168.99.33 . 80 . 1 }",
		"add element ip svcplane endpoints-cluster-tcp { 172.30.0.44 . 80 . 0 : 10.180.0.5 . 80 }",
		"add element ip svcplane endpoints-cluster-tcp { 172.30.0.44 . 80 . 1 : 10.180.0.6 . 80 }",
		"add element ip svcplane endpoints-cluster-tcp { 192.168.99.33 . 80 . 0 : 10.180.0.5 . 80 }",
		"add element ip svcplane endpoints-cluster-tcp { 192.168.99.33 . 80 . 1 : 10.180.0.6 . 80 }",
		"",
	}, "\n")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("partial transaction (-want +got):\n%s", d)
	}
	if d := cmp.Diff(sortedLines(fullDump(t, next)), sortedLines(fake.Dump())); d != "" {
		t.Errorf("partial sync differs from a full one (-full +partial):\n%s", d)
	}
}
