package ipvs

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// partial is st as a partial sync of the service ports of namespaces.
func partial(st *proxy.State, namespaces ...string) *proxy.State {
	st.Full = false
	st.Changed = map[proxy.ServicePortName]bool{}
	for _, ns := range namespaces {
		st.Changed[proxy.ServicePortName{NamespacedName: nn(ns), Port: "p80", Protocol: corev1.ProtocolTCP}] = true
	}
	return st
}

func nn(ns string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: "svc" + ns[2:]}
}

func TestPartialSyncsEqualFullSyncs(t *testing.T) {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	steps := []struct {
		name    string
		changed []string
		mutate  func()
	}{
		{"ns1 endpoint replaced", []string{"ns1"}, func() { slices[0].Endpoints[0].Addresses = []string{"10.180.0.9"} }},
		{"ns6 gains an endpoint", []string{"ns6"}, func() {
			s := slices[0].DeepCopy()
			s.Namespace, s.Labels[discoveryv1.LabelServiceName] = "ns6", "svc6"
			slices = append(slices, s)
		}},
		{"ns3 deleted", []string{"ns3"}, func() { svcs = append(svcs[:2], svcs[3:]...) }},
		{"ns5 loses its source ranges and affinity", []string{"ns5"}, func() {
			svcs[3].Spec.LoadBalancerSourceRanges = nil
			svcs[3].Spec.SessionAffinity = corev1.ServiceAffinityNone
		}},
	}
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.State(svcs, slices))
	for _, step := range steps {
		step.mutate()
		tb.sync(t, partial(proxytest.State(svcs, slices), step.changed...))
		full := newTestBackend(t, "")
		full.sync(t, proxytest.State(svcs, slices))
		if d := cmp.Diff(full.rules(t), tb.rules(t)); d != "" {
			t.Fatalf("%s: partial sync differs from a full sync (-full +partial):\n%s", step.name, d)
		}
	}
}

func TestPartialSyncIsSmall(t *testing.T) {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.State(svcs, slices))
	restores, ops := len(tb.ipt.Restores), tb.fake.Ops
	slices[0].Endpoints[0].Addresses = []string{"10.180.0.9"}
	tb.sync(t, partial(proxytest.State(svcs, slices), "ns1"))
	// One real server added, one deleted (no connections).
	if got := tb.fake.Ops - ops; got != 2 {
		t.Errorf("a replaced endpoint took %d kernel operations, want 2", got)
	}
	if len(tb.ipt.Restores) != restores {
		t.Errorf("unchanged iptables rules were restored again")
	}
}

func TestGracefulRemoval(t *testing.T) {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.State(svcs, slices))
	const vs = "TCP/172.30.0.44:80"
	tb.fake.SetConns(vs, "10.180.0.4:80", 1, 2)
	slices[3].Endpoints = slices[3].Endpoints[1:] // 10.180.0.4 goes
	tb.sync(t, partial(proxytest.State(svcs, slices), "ns4"))
	if got := dests(t, tb, vs); got != "10.180.0.4:80/0 10.180.0.5:80/1" {
		t.Fatalf("after removal with connections: %s, want the endpoint at weight 0", got)
	}
	tb.sync(t, partial(proxytest.State(svcs, slices))) // still draining
	if got := dests(t, tb, vs); got != "10.180.0.4:80/0 10.180.0.5:80/1" {
		t.Fatalf("while draining: %s", got)
	}
	tb.fake.SetConns(vs, "10.180.0.4:80", 0, 0)
	tb.sync(t, partial(proxytest.State(svcs, slices)))
	if got := dests(t, tb, vs); got != "10.180.0.5:80/1" {
		t.Fatalf("after the connections ended: %s, want it deleted", got)
	}
}

func TestDrainingEndpointComesBack(t *testing.T) {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.State(svcs, slices))
	const vs = "TCP/172.30.0.44:80"
	tb.fake.SetConns(vs, "10.180.0.4:80", 1, 0)
	eps := slices[3].Endpoints
	slices[3].Endpoints = eps[1:]
	tb.sync(t, partial(proxytest.State(svcs, slices), "ns4"))
	slices[3].Endpoints = eps
	tb.sync(t, partial(proxytest.State(svcs, slices), "ns4"))
	if got := dests(t, tb, vs); got != "10.180.0.4:80/1 10.180.0.5:80/1" {
		t.Fatalf("%s, want the endpoint back at weight 1", got)
	}
}

func dests(t *testing.T, tb testBackend, key string) string {
	t.Helper()
	svcs, _ := tb.fake.Services()
	for _, s := range svcs {
		if s.Key() == key {
			ds, _ := tb.fake.Destinations(s)
			var out []string
			for _, d := range ds {
				out = append(out, d.Key()+"/"+string(rune('0'+d.Weight)))
			}
			return strings.Join(out, " ")
		}
	}
	return "no service " + key
}

func TestSchedulers(t *testing.T) {
	for _, c := range []struct{ config, annotation, want string }{
		{"", "", "rr"},
		{"wlc", "", "wlc"},
		{"", "sh", "sh"},
		{"lc", "mh", "mh"},
		{"sed", "fastest", "sed"},
	} {
		svcs := proxytest.OverallServices()[:1]
		if c.annotation != "" {
			svcs[0].Annotations = map[string]string{proxy.SchedulerAnnotation: c.annotation}
		}
		tb := newTestBackend(t, c.config)
		tb.sync(t, proxytest.State(svcs, proxytest.OverallSlices()))
		got, _ := tb.fake.Services()
		if len(got) != 1 || got[0].Scheduler != c.want {
			t.Errorf("config %q annotation %q: %+v, want scheduler %s", c.config, c.annotation, got, c.want)
		}
		if c.want == "mh" && got[0].Flags&FlagSchedMHPort == 0 {
			t.Errorf("mh without mh-port")
		}
	}
	if _, err := New(context.Background(), Config{Scheduler: "fastest", Kernel: &Kernel{}}); err == nil {
		t.Error("an unknown configured scheduler was accepted")
	}
}

func TestCleanupRemovesEverything(t *testing.T) {
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.OverallState())
	// A virtual service the mode did not make stays.
	other := Service{Protocol: "TCP", Address: netip.MustParseAddr("10.9.9.9"), Port: 80, Scheduler: "rr"}
	if err := tb.fake.AddService(other); err != nil {
		t.Fatal(err)
	}
	// Cleanup runs in a fresh process: a new backend over the same kernel.
	k := FakeKernel(tb.fake, tb.ipt)
	b, err := New(context.Background(), Config{Kernel: &k, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	svcs, _ := tb.fake.Services()
	if len(svcs) != 1 || svcs[0].Key() != other.Key() {
		t.Errorf("virtual services left: %+v", svcs)
	}
	if sets, _ := tb.fake.Sets(); len(sets) != 0 {
		t.Errorf("ipsets left: %v", sets)
	}
	if tb.fake.Exists(DummyDevice) {
		t.Errorf("%s left", DummyDevice)
	}
	if save := tb.ipt.Save("nft/4"); strings.Contains(save, "KUBE-") {
		t.Errorf("iptables rules left:\n%s", save)
	}
}

func TestFullSyncRepairsTheKernel(t *testing.T) {
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.OverallState())
	want := tb.rules(t)
	svcs, _ := tb.fake.Services()
	_ = tb.fake.DeleteService(svcs[0])
	_ = tb.fake.DelEntry("KUBE-CLUSTER-IP", "172.30.0.41,tcp:80")
	_ = tb.fake.DelAddr(DummyDevice, netip.MustParseAddr("172.30.0.41"))
	stale := Service{Protocol: "TCP", Address: netip.MustParseAddr("172.30.0.99"), Port: 80, Scheduler: "rr"}
	_ = tb.fake.AddService(stale)
	_ = tb.fake.AddAddr(DummyDevice, stale.Address)
	tb.sync(t, proxytest.OverallState())
	if d := cmp.Diff(want, tb.rules(t)); d != "" {
		t.Errorf("full sync did not repair (-want +got):\n%s", d)
	}
}

func TestHandoverToIPTables(t *testing.T) {
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.OverallState())
	// The iptables mode's full sync rewrites the chains both modes write.
	ctx := context.Background()
	if _, err := tb.ipt.Run(ctx, "iptables-nft-restore", []string{"--noflush"}, []byte(
		"*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT\n"+
			"*filter\n:KUBE-FORWARD - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	if err := tb.Handover(ctx, proxy.ModeIPTables); err != nil {
		t.Fatal(err)
	}
	save := tb.ipt.Save("nft/4")
	for _, gone := range []string{"KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-IPVS-FILTER", "KUBE-SOURCE-RANGES-FIREWALL", "--match-set"} {
		if strings.Contains(save, gone) {
			t.Errorf("%s left after the handover:\n%s", gone, save)
		}
	}
	for _, kept := range []string{":KUBE-SERVICES", `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`, ":KUBE-PROXY-FIREWALL"} {
		if !strings.Contains(save, kept) {
			t.Errorf("%s removed by the handover:\n%s", kept, save)
		}
	}
	if svcs, _ := tb.fake.Services(); len(svcs) != 0 {
		t.Errorf("virtual services left: %v", svcs)
	}
	if sets, _ := tb.fake.Sets(); len(sets) != 0 {
		t.Errorf("ipsets left: %v", sets)
	}
}
