package nftables

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// nodeIPs are the fixtures' node addresses, which `fib saddr type local`
// holds for.
func nodeIPs() []netip.Addr { return []netip.Addr{netip.MustParseAddr(proxytest.NodeIP)} }

// TestTracerOverall traces the shared cases through the rules the backend
// writes for the shared fixtures.
func TestTracerOverall(t *testing.T) {
	b, fake := newTestBackend(t)
	if err := b.Sync(context.Background(), proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	tr, err := tracer.NewNFTablesFromDump(fake.Dump(), nodeIPs())
	if err != nil {
		t.Fatal(err)
	}
	tracer.Run(t, tr, proxytest.OverallCases())
}

// TestTracerOverallKernel traces the shared cases through the same rules
// as the kernel lists them (`nft list table ip svcplane`, nft 1.0.6).
func TestTracerOverallKernel(t *testing.T) {
	listing, err := os.ReadFile(filepath.Join("testdata", "overall.kernel.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracer.NewNFTables(string(listing), nodeIPs())
	if err != nil {
		t.Fatal(err)
	}
	tracer.Run(t, tr, proxytest.OverallCases())
}
