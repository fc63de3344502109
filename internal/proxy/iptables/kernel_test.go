package iptables

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// netnsExec runs the tools inside a network namespace.
type netnsExec struct{ name string }

func (n netnsExec) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	return OSExec{}.Run(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...), stdin)
}

func (n netnsExec) RunStream(ctx context.Context, name string, args []string, write func(io.Writer) error) ([]byte, error) {
	return OSExec{}.RunStream(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...), write)
}

// testNetns creates a throwaway network namespace, or skips.
func testNetns(t *testing.T) netnsExec {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("iptables-restore"); err != nil {
		t.Skip("no iptables")
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "svcplane-ipt-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return netnsExec{name: name}
}

func TestKernelOverall(t *testing.T) {
	for _, backend := range []string{BackendLegacy, BackendNFT} {
		t.Run(backend, func(t *testing.T) {
			ex := testNetns(t)
			ctx := context.Background()
			b, err := New(ctx, Config{Exec: ex, IPTablesBackend: backend, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Skipf("backend %s: %v", backend, err)
			}
			st := proxytest.OverallState()
			if err := b.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			if b.NeedsFullSync(ctx) {
				t.Error("canary missing after a sync")
			}
			rules, err := b.Rules(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				`-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O`,
				`-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC`,
			} {
				if !strings.Contains(rules, want) {
					t.Errorf("missing %s in:\n%s", want, rules)
				}
			}
			tr, err := tracer.NewIPTables(rules, proxytest.Node().IPs)
			if err != nil {
				t.Fatal(err)
			}
			tracer.Run(t, tr, proxytest.OverallCases())
			// A partial sync and a second full sync apply too.
			st.Full = false
			if err := b.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			if err := b.Cleanup(ctx); err != nil {
				t.Fatal(err)
			}
			if rules, _ := b.Rules(ctx); strings.Contains(rules, "KUBE-") {
				t.Errorf("left after cleanup:\n%s", rules)
			}
		})
	}
}

func TestKernelIPv6(t *testing.T) {
	ex := testNetns(t)
	ctx := context.Background()
	b, err := New(ctx, Config{Family: corev1.IPv6Protocol, Exec: ex, IPTablesBackend: BackendLegacy, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Skip(err)
	}
	name := proxy.ServicePortName{Port: "http", Protocol: corev1.ProtocolTCP}
	name.Namespace, name.Name = "ns", "v6"
	sp := &proxy.ServicePort{Name: name, ClusterIP: netip.MustParseAddr("fd00:30::1"), Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080, AffinitySeconds: 60}
	st := proxy.Build(proxy.Input{
		Family:   corev1.IPv6Protocol,
		Node:     proxy.Node{Name: "n", IPs: []netip.Addr{netip.MustParseAddr("fd00:1::2")}},
		Options:  proxy.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00:10::/64")}},
		Services: map[proxy.ServicePortName]*proxy.ServicePort{name: sp},
		Endpoints: proxy.EndpointsMap{name: {
			{IP: netip.MustParseAddr("fd00:10::5"), Port: 8080, Ready: true, Serving: true},
			{IP: netip.MustParseAddr("fd00:10::6"), Port: 8080, Ready: true, Serving: true},
		}},
		Full: true,
	})
	if err := b.Sync(ctx, st); err != nil {
		t.Fatalf("%v\n%s", err, b.LastRestore())
	}
	rules, err := b.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracer.NewIPTables(rules, st.Node.IPs)
	if err != nil {
		t.Fatal(err)
	}
	tracer.Run(t, tr, []tracer.Case{
		{Name: "pod to cluster IP", Src: "fd00:10::9", Dst: "fd00:30::1", Port: 80, Want: tracer.Result{Output: "[fd00:10::5]:8080, [fd00:10::6]:8080"}},
		{Name: "outside to NodePort", Src: "fd00:99::1", Dst: "fd00:1::2", Port: 30080, Want: tracer.Result{Output: "[fd00:10::5]:8080, [fd00:10::6]:8080", Masq: true}},
	})
	if err := b.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
}
