package claim

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func TestStart(t *testing.T) {
	store := newStore(t)
	put(t, store, IPKey(netip.MustParseAddr("10.0.0.3")), "services/default/gone")
	put(t, store, NodePortKey(30004), "services/default/web")
	c := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{})
	services := []*v1.Service{
		svc("default", "web", "10.0.0.2", 30004),
		svc("default", "legacy", "10.0.0.5", 30005), // stored before claims existed
		svc("default", "a-dup", "10.0.0.5"),         // shares legacy's IP: first in name order
	}
	conflicts, err := c.Start(t.Context(), listOf(services))
	if err != nil {
		t.Fatal(err)
	}
	if len(conflicts) != 1 || conflicts[0].Service != "default/legacy" || conflicts[0].Holder != "default/a-dup" {
		t.Errorf("conflicts: %v", conflicts)
	}
	want := "ips/ipv4/10.0.0.2=services/default/web ips/ipv4/10.0.0.3=services/default/gone " +
		"ips/ipv4/10.0.0.5=services/default/a-dup nodeports/30004=services/default/web nodeports/30005=services/default/legacy"
	if got := claimed(t, store); got != want {
		t.Errorf("claims:\n got %s\nwant %s", got, want)
	}
	if got := local(c); got != "[10.0.0.2 10.0.0.3 10.0.0.5] [30004 30005]" {
		t.Errorf("local allocators: %s", got)
	}
}

// local prints what c's local allocators hold.
func local(c *Claims) string {
	var ips []netip.Addr
	var ports []int
	c.IPs(v1.IPv4Protocol).Local().ForEach(func(ip netip.Addr) { ips = append(ips, ip) })
	c.NodePorts().Local().ForEach(func(p int) { ports = append(ports, p) })
	return fmt.Sprint(ips, ports)
}

// TestWatchKeepsLocalFresh: what one server claims and releases shows in
// the other's local allocators.
func TestWatchKeepsLocalFresh(t *testing.T) {
	store := newStore(t)
	a := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{})
	b := server(t, store, "b", "10.0.0.0/29", "30000-30009", Config{})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	if _, err := b.Start(ctx, listOf(nil)); err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { b.Run(ctx, listOf(nil)) })

	ports := a.For(ctx, "x").NodePorts
	if err := ports.Allocate(30007); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to see a's claim", func() bool { return b.NodePorts().Local().Has(30007) })
	if err := ports.Release(30007); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to see a's release", func() bool { return !b.NodePorts().Local().Has(30007) })
}

// TestResync: after a watch ended, the local allocator is made to match
// the claims, except for the values being claimed at that moment.
func TestResync(t *testing.T) {
	store := newStore(t)
	c := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{})
	r := c.IPs(v1.IPv4Protocol)
	put(t, store, IPKey(netip.MustParseAddr("10.0.0.2")), "services/default/elsewhere")
	_ = r.Local().Allocate(netip.MustParseAddr("10.0.0.4")) // released while the watch was down
	if _, err := r.reserve(netip.MustParseAddr("10.0.0.5")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.resync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := local(c); got != "[10.0.0.2 10.0.0.5] []" {
		t.Errorf("after resync: %s", got)
	}
}

func TestSweep(t *testing.T) {
	store := newStore(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{Grace: time.Minute, Now: func() time.Time { return now }})
	put(t, store, IPKey(netip.MustParseAddr("10.0.0.2")), "services/default/web")
	put(t, store, IPKey(netip.MustParseAddr("10.0.0.3")), "services/default/gone")
	put(t, store, IPKey(netip.MustParseAddr("10.0.0.4")), "services/default/recycled")
	put(t, store, IPKey(netip.MustParseAddr("10.0.0.6")), "services/default/late")
	if _, err := c.Start(t.Context(), listOf(nil)); err != nil {
		t.Fatal(err)
	}
	services := []*v1.Service{svc("default", "web", "10.0.0.2", 30004)}
	s := &sweeper{c: c, orphans: map[string]seen{}, missing: map[string]seen{}}
	steps := []struct {
		at     time.Duration
		before func()
		want   string
	}{
		{0, nil, "2=web 3=gone 4=recycled 6=late"},
		{30 * time.Second, func() {
			// 4 is released and claimed again; late's Service is stored.
			_, _ = store.Delete(t.Context(), IPKey(netip.MustParseAddr("10.0.0.4")), 0)
			put(t, store, IPKey(netip.MustParseAddr("10.0.0.4")), "services/default/recycled")
			services = append(services, svc("default", "late", "10.0.0.6"))
		}, "2=web 3=gone 4=recycled 6=late"},
		{61 * time.Second, nil, "2=web 4=recycled 6=late 30004=web"},
		{91 * time.Second, nil, "2=web 6=late 30004=web"},
	}
	list := func(context.Context) ([]*v1.Service, error) { return services, nil }
	start := now
	for _, st := range steps {
		now = start.Add(st.at)
		if st.before != nil {
			st.before()
		}
		if err := s.sweep(t.Context(), list); err != nil {
			t.Fatal(err)
		}
		if got := short(t, store); got != st.want {
			t.Errorf("after the sweep at %v:\n got %s\nwant %s", st.at, got, st.want)
		}
	}
	if got := local(c); got != "[10.0.0.2 10.0.0.6] [30004]" {
		t.Errorf("local allocators: %s", got)
	}
}
