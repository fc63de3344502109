package iptables

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"

	"github.com/svcplane/svcplane/internal/proxy/iptables/savefmt"
)

// countingExec records the tools run.
type countingExec struct {
	Exec
	mu   sync.Mutex
	runs []string
}

func (c *countingExec) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	c.mu.Lock()
	c.runs = append(c.runs, name+" "+strings.Join(args, " "))
	c.mu.Unlock()
	return c.Exec.Run(ctx, name, args, stdin)
}

func (c *countingExec) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.runs
	c.runs = nil
	return out
}

// jumpLines are the jumps a full sync of the overall State ensures, as
// iptables-save prints them.
func jumpLines(st *proxy.State) []string {
	var out []string
	for _, j := range jumpsFor(st) {
		out = append(out, "-A "+j.src+" "+savefmt.Join(j.args()))
	}
	return out
}

// TestJumpsRepaired: a full sync reads the tables once, writes the missing
// chains and jumps at the head of its restore (nothing when nothing is
// missing) and puts back a jump someone deleted without duplicating the
// others.
func TestJumpsRepaired(t *testing.T) {
	f := iptablestest.NewFake()
	ex := &countingExec{Exec: f}
	b := newTestBackend(t, f)
	b.ex = ex
	ctx := context.Background()
	st := proxytest.OverallState()
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if runs := ex.take(); len(runs) != 2 || !strings.HasPrefix(runs[0], "iptables-legacy-save") {
		t.Errorf("first full sync: want save and restore; ran %q", runs)
	}
	if got := f.LastRestore(); !strings.HasPrefix(got, "*mangle\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n*nat\n:KUBE-PROXY-CANARY - [0:0]\n") {
		t.Errorf("first full sync: the restore does not start with the canaries:\n%s", got)
	}
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	if runs := ex.take(); len(runs) != 2 {
		t.Errorf("full sync with every jump in place: want save and restore; ran %q", runs)
	}
	del := append([]string{"-t", "nat", "-D", "PREROUTING"}, jumps[10].args()...)
	if _, err := f.Run(ctx, "iptables-legacy", del, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(ctx, "iptables-legacy", []string{"-t", "filter", "-X", chainCanary}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	want := "*nat\n-I PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\nCOMMIT\n*filter\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n"
	if got := f.LastRestore(); got != want+string(b.LastRestore()) {
		t.Errorf("restore:\n%s\nwant the missing jump and canary:\n%s\nthen the rules", got, want)
	}
	save := f.Save("legacy/4")
	for _, l := range jumpLines(st) {
		if n := strings.Count(save, l+"\n"); n != 1 {
			t.Errorf("%d times: %s", n, l)
		}
	}
}

// TestKernelJumps: the jumps read back from the kernel's iptables-save
// match what the backend looks for, so a second full sync adds none.
func TestKernelJumps(t *testing.T) {
	for _, backend := range []string{BackendLegacy, BackendNFT} {
		t.Run(backend, func(t *testing.T) {
			ns := testNetns(t)
			ex := &countingExec{Exec: ns}
			ctx := context.Background()
			b, err := New(ctx, Config{Exec: ex, IPTablesBackend: backend, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Skipf("backend %s: %v", backend, err)
			}
			st := proxytest.OverallState()
			st.Options.LocalhostNodePorts = true // kubelet's KUBE-FIREWALL jumps too
			for range 2 {
				st.Full = true
				ex.take()
				if err := b.Sync(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			if runs := ex.take(); len(runs) != 2 {
				t.Errorf("second full sync: want save and restore; ran %q", runs)
			}
			rules, err := b.Rules(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range jumpLines(st) {
				if n := strings.Count(rules, l+"\n"); n != 1 {
					t.Errorf("%d times: %s", n, l)
				}
			}
			for _, table := range canaryTables {
				if _, err := ns.Run(ctx, b.tools.iptables, []string{"-t", table, "-S", chainCanary}, nil); err != nil {
					t.Errorf("no canary in %s: %v", table, err)
				}
			}
			if err := b.Cleanup(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
