package nftables

import (
	"context"
	"flag"
	"log/slog"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func newTestBackend(t testing.TB) (*Backend, *knftables.Fake) {
	t.Helper()
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	b, err := New(Config{
		Family:     corev1.IPv4Protocol,
		NFT:        fake,
		LocalAddrs: func() []netip.Addr { return nil },
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, fake
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	proxytest.Golden(t, name, got, *update)
}

func TestOverallRules(t *testing.T) {
	b, fake := newTestBackend(t)
	if err := b.Sync(context.Background(), proxytest.OverallState()); err != nil {
		t.Fatal(err)
	}
	golden(t, "overall.golden", fake.Dump())
}

var knftablesTable = knftables.Table{}

func newTestBackend6(t testing.TB) (*Backend, *knftables.Fake) {
	t.Helper()
	fake := knftables.NewFake(knftables.IPv6Family, TableName)
	b, err := New(Config{Family: corev1.IPv6Protocol, NFT: fake, LocalAddrs: func() []netip.Addr { return nil }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return b, fake
}
