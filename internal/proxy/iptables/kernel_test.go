package iptables

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// netnsExec runs the tools inside a network namespace.
type netnsExec struct{ name string }

func (n netnsExec) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	return OSExec{}.Run(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...), stdin)
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
