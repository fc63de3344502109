package ipvs

import (
	"context"
	"flag"
	"log/slog"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// testBackend is a backend over a fake kernel whose eth0 holds the
// fixtures' node address.
type testBackend struct {
	*Backend
	fake *Fake
	ipt  *iptablestest.Fake
}

func newTestBackend(t *testing.T, scheduler string) testBackend {
	t.Helper()
	fake := NewFake(netip.MustParseAddr(proxytest.NodeIP))
	ipt := iptablestest.NewFake()
	k := FakeKernel(fake, ipt)
	b, err := New(context.Background(), Config{Kernel: &k, Scheduler: scheduler, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return testBackend{Backend: b, fake: fake, ipt: ipt}
}

func (tb testBackend) sync(t *testing.T, st *proxy.State) {
	t.Helper()
	if err := tb.Sync(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

func (tb testBackend) rules(t *testing.T) string {
	t.Helper()
	out, err := tb.Rules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOverallGolden(t *testing.T) {
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.OverallState())
	proxytest.Golden(t, "overall.golden", tb.rules(t), *update)
}

// tracer reads the fake's state into the IPVS tracer, as `svcplane
// trace` reads the kernel's.
func (tb testBackend) tracer(t *testing.T) *tracer.IPVS {
	t.Helper()
	tr, err := ReadTracer(context.Background(), FakeKernel(tb.fake, tb.ipt), corev1.IPv4Protocol, proxytest.Node().IPs)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// ipvsDifferences are the shared packet cases where kube-proxy's IPVS
// mode answers otherwise than its iptables mode (README.md says why).
var ipvsDifferences = map[string]tracer.Result{
	// KUBE-LOOP-BACK holds only this node's endpoints.
	"hairpin of a remote endpoint to its local-policy external IP": {Output: "10.180.0.2:80"},
	// A Local-policy address without local endpoints uses every
	// endpoint (kubernetes#97081), unmasqueraded.
	"outside to external IP without local endpoints": {Output: "10.180.0.2:80"},
	"outside to LB IP without local endpoints":       {Output: "10.180.0.2:80"},
	"outside to NodePort without local endpoints":    {Output: "10.180.0.2:80"},
	"node to NodePort of local-policy service":       {Output: "10.180.0.2:80"},
}

// ipvsCases are the shared cases with the IPVS mode's answers.
func ipvsCases() []tracer.Case {
	cases := proxytest.OverallCases()
	for i, c := range cases {
		if want, ok := ipvsDifferences[c.Name]; ok {
			cases[i].Want = want
		}
	}
	return cases
}

func TestTracerOverall(t *testing.T) {
	tb := newTestBackend(t, "")
	tb.sync(t, proxytest.OverallState())
	tracer.Run(t, tb.tracer(t), ipvsCases())
}
