package iptables

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// chainLines are the ":CHAIN" lines of the nat table of a restore text.
func chainLines(text string) []string {
	nat := text[strings.Index(text, "*nat"):]
	var out []string
	for _, l := range strings.Split(nat, "\n") {
		if strings.HasPrefix(l, ":KUBE-S") || strings.HasPrefix(l, ":KUBE-E") || strings.HasPrefix(l, ":KUBE-F") {
			if c := strings.Fields(l[1:])[0]; isServiceChain(c) {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestPartialSync(t *testing.T) {
	svc4 := proxy.ServicePortName{Port: "p80", Protocol: "TCP"}
	svc4.Namespace, svc4.Name = "ns4", "svc4"
	svc1 := proxytest.OverallState().Services[0].Name
	cases := []struct {
		name       string
		change     func(st *proxy.State)
		changed    []proxy.ServicePortName
		wantChains []string
		wantX      []string
	}{{
		name: "one endpoint of svc4 removed",
		change: func(st *proxy.State) {
			s := st.Service(svc4)
			s.Cluster, s.AllReachable = s.Cluster[:1], s.AllReachable[:1]
		},
		changed:    []proxy.ServicePortName{svc4},
		wantChains: []string{"KUBE-EXT-4SW47YFZTEDKD3PK", "KUBE-SVC-4SW47YFZTEDKD3PK", "KUBE-SEP-UKSFD7AGPMPPLUHC", "KUBE-SEP-C6EBXVWJJZMIWKLZ"},
		wantX:      []string{"KUBE-SEP-C6EBXVWJJZMIWKLZ"},
	}, {
		name: "svc1 removed",
		change: func(st *proxy.State) {
			st.Services = st.Services[1:]
		},
		changed:    []proxy.ServicePortName{svc1},
		wantChains: []string{"KUBE-SVC-XPGD46QRK7WJZT7O", "KUBE-SEP-SXIVWICOYRO3J4NJ"},
		wantX:      []string{"KUBE-SVC-XPGD46QRK7WJZT7O", "KUBE-SEP-SXIVWICOYRO3J4NJ"},
	}, {
		name:   "nothing changed",
		change: func(*proxy.State) {},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := iptablestest.NewFake()
			b := newTestBackend(t, f)
			ctx := context.Background()
			if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
				t.Fatal(err)
			}
			st := proxytest.OverallState()
			st.Full = false
			st.Changed = map[proxy.ServicePortName]bool{}
			for _, n := range c.changed {
				st.Changed[n] = true
			}
			c.change(st)
			if err := b.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			text := string(b.LastRestore())
			if got := strings.Join(chainLines(text), " "); got != strings.Join(c.wantChains, " ") {
				t.Errorf("chains written: %s\nwant %s", got, strings.Join(c.wantChains, " "))
			}
			var x []string
			for _, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(l, "-X ") {
					x = append(x, l[3:])
				}
			}
			if strings.Join(x, " ") != strings.Join(c.wantX, " ") {
				t.Errorf("deleted %v, want %v", x, c.wantX)
			}
			// A full sync of the same state must give the same kernel rules.
			partial := f.Save("legacy/4")
			f2 := iptablestest.NewFake()
			b2 := newTestBackend(t, f2)
			st.Full = true
			if err := b2.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			if full := f2.Save("legacy/4"); sortedLines(full) != sortedLines(partial) {
				t.Errorf("partial sync differs from full:\n%s\nfull:\n%s", partial, full)
			}
		})
	}
}

func sortedLines(s string) string {
	l := strings.Split(s, "\n")
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j] < l[j-1]; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	return strings.Join(l, "\n")
}

func TestFailedRestoreMakesNextSyncFull(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	ctx := context.Background()
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	f.FailRestore = 1
	st := proxytest.OverallState()
	st.Full = false
	if err := b.Sync(ctx, st); err == nil {
		t.Fatal("want an error")
	}
	if !b.NeedsFullSync(ctx) {
		t.Error("a failed restore must make the next sync full")
	}
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := len(chainLines(string(b.LastRestore()))); got != 16 {
		t.Errorf("the sync after a failure wrote %d chains, want all 16", got)
	}
}

func TestStaleChainsOnFullSync(t *testing.T) {
	f := iptablestest.NewFake()
	ctx := context.Background()
	if _, err := f.Run(ctx, "iptables-legacy", []string{"-t", "nat", "-N", "KUBE-SEP-OLDOLDOLDOLDOLD"}, nil); err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t, f)
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b.LastRestore()), "-X KUBE-SEP-OLDOLDOLDOLDOLD\n") {
		t.Error("the stale chain was not deleted")
	}
}

func TestNodePortAddresses(t *testing.T) {
	f := iptablestest.NewFake()
	b := newTestBackend(t, f)
	st := proxytest.OverallState()
	st.Options.NodePortAddresses = []netip.Addr{netip.MustParseAddr("192.168.0.2"), netip.MustParseAddr("127.0.0.1")}
	if err := b.Sync(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	text := string(b.LastRestore())
	want := `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.0.2 -j KUBE-NODEPORTS` + "\n"
	if !strings.Contains(text, want) || strings.Contains(text, "-d 127.0.0.1 -j KUBE-NODEPORTS") {
		t.Errorf("nodeport addresses:\n%s", text)
	}
}

func TestChoose(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		want        string
		unavailable string
		legacyRules bool
		nftRules    bool
		got         string
		err         bool
	}{
		{name: "auto, nothing anywhere: legacy", got: BackendLegacy},
		{name: "auto, rules in nft", nftRules: true, got: BackendNFT},
		{name: "auto, rules in legacy", legacyRules: true, got: BackendLegacy},
		{name: "auto, no legacy in the kernel", unavailable: BackendLegacy, got: BackendNFT},
		{name: "nft asked for", want: BackendNFT, legacyRules: true, got: BackendNFT},
		{name: "legacy asked for but missing", want: BackendLegacy, unavailable: BackendLegacy, err: true},
		{name: "bad name", want: "xt", err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := iptablestest.NewFake()
			if c.legacyRules {
				f.Run(ctx, "iptables-legacy", []string{"-t", "filter", "-N", "KUBE-KUBELET-CANARY"}, nil)
			}
			if c.nftRules {
				f.Run(ctx, "iptables-nft", []string{"-t", "filter", "-N", "KUBE-KUBELET-CANARY"}, nil)
			}
			if c.unavailable != "" {
				f.Unavailable[c.unavailable] = true
			}
			b, err := New(ctx, Config{Exec: f, IPTablesBackend: c.want})
			if c.err {
				if err == nil {
					t.Fatalf("want an error, got %+v", b.Choice())
				}
				if c.want != "xt" && !errors.Is(err, proxy.ErrUnavailable) {
					t.Errorf("error %v is not ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Choice().Backend != c.got {
				t.Errorf("chose %+v, want %s", b.Choice(), c.got)
			}
		})
	}
}
