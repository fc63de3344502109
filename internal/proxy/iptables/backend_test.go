package iptables

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func newTestBackend(t testing.TB, f *iptablestest.Fake) *Backend {
	t.Helper()
	b, err := New(context.Background(), Config{Family: corev1.IPv4Protocol, Exec: f, IPTablesBackend: BackendLegacy, CanaryInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	proxytest.Golden(t, name, got, *update)
}

func TestOverallRules(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	if err := b.Sync(context.Background(), proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	golden(t, "overall.golden", string(b.LastRestore()))
}

func TestOverallLocalhostNodePorts(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	st := proxytest.OverallState()
	st.Options.LocalhostNodePorts = true
	if err := b.Sync(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	golden(t, "overall-localhost.golden", string(b.LastRestore()))
}

func TestChainNames(t *testing.T) {
	n := newPortNames(proxytest.OverallState().Services[0].Name)
	ep := proxytest.OverallState().Services[0].Cluster[0]
	for got, want := range map[string]string{n.svc: "KUBE-SVC-XPGD46QRK7WJZT7O", n.sep(&ep).chain: "KUBE-SEP-SXIVWICOYRO3J4NJ"} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestOverallTrace(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	st := proxytest.OverallState()
	ctx := context.Background()
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	rules, err := b.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracer.NewIPTables(rules, proxytest.Node().IPs)
	if err != nil {
		t.Fatal(err)
	}
	tracer.Run(t, tr, proxytest.OverallCases())
}

func TestCanary(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	ctx := context.Background()
	if !b.NeedsFullSync(ctx) {
		t.Error("a new backend must need a full sync")
	}
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	if b.NeedsFullSync(ctx) {
		t.Fatal("needs a full sync right after one")
	}
	if _, err := f.Run(ctx, "iptables-legacy", []string{"-t", "mangle", "-X", chainCanary}, nil); err != nil {
		t.Fatal(err)
	}
	b.cfg.CanaryInterval = time.Hour
	if b.NeedsFullSync(ctx) {
		t.Error("the canaries were looked at again within CanaryInterval")
	}
	b.lastCanary = time.Time{}
	if !b.NeedsFullSync(ctx) {
		t.Error("a deleted canary must force a full sync")
	}
}

func TestJumpsOnce(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	ctx := context.Background()
	st := proxytest.OverallState()
	for range 2 {
		st.Full = true
		if err := b.Sync(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	save := f.Save("legacy/4")
	if n := strings.Count(save, "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"); n != 1 {
		t.Errorf("PREROUTING jump %d times:\n%s", n, save)
	}
	if !strings.Contains(save, "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD") {
		t.Errorf("FORWARD jumps not in kube-proxy's order:\n%s", save)
	}
}

func TestCleanup(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	ctx := context.Background()
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	if err := b.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if save := f.Save("legacy/4"); strings.Contains(save, "KUBE-") {
		t.Errorf("left after cleanup:\n%s", save)
	}
}

var _ proxy.Backend = (*Backend)(nil)

// TestHandoverToIPVS: once the IPVS mode has rewritten the chains both
// modes write, the handover removes the iptables mode's own chains and
// the jumps to them, and keeps the shared ones.
func TestHandoverToIPVS(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	ctx := context.Background()
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	// What the IPVS mode's sync leaves in the shared chains.
	ipvs := "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\nCOMMIT\n"
	if _, err := f.Run(ctx, b.tools.restore, []string{"--noflush"}, []byte(ipvs)); err != nil {
		t.Fatal(err)
	}
	if err := b.Handover(ctx, proxy.ModeIPVS); err != nil {
		t.Fatal(err)
	}
	save := f.Save("legacy/4")
	for _, gone := range []string{"KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-", ":KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-CANARY"} {
		if strings.Contains(save, gone) {
			t.Errorf("%s left after the handover:\n%s", gone, save)
		}
	}
	for _, kept := range []string{":KUBE-SERVICES", "-A KUBE-SERVICES -m set", ":KUBE-MARK-MASQ", ":KUBE-POSTROUTING"} {
		if !strings.Contains(save, kept) {
			t.Errorf("%s removed by the handover:\n%s", kept, save)
		}
	}
}
