package userspace

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/proxy"
)

// scaleInput is n ClusterIP Services (TCP 80, from 10.96.0.1) with one
// endpoint each.
func scaleInput(n int) proxy.Input {
	in := proxy.Input{
		Family:    corev1.IPv4Protocol,
		Node:      proxy.Node{Name: "node", IPs: []netip.Addr{netip.MustParseAddr("192.168.0.2")}},
		Services:  map[proxy.ServicePortName]*proxy.ServicePort{},
		Endpoints: proxy.EndpointsMap{},
		Full:      true,
	}
	ip := netip.MustParseAddr("10.96.0.1")
	for i := range n {
		name := proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("s%d", i)}, Port: "p", Protocol: corev1.ProtocolTCP}
		in.Services[name] = &proxy.ServicePort{Name: name, ClusterIP: ip, Port: 80, Protocol: corev1.ProtocolTCP}
		in.Endpoints[name] = []proxy.Endpoint{{IP: netip.MustParseAddr("127.0.0.2"), Port: int32(10000 + i), Ready: true, Serving: true}}
		ip = ip.Next()
	}
	return in
}

// TestSyncThousand times syncs at 1,000 Services (logged, not asserted):
// the first full sync, a partial one that replaces one endpoint, a full
// resync with nothing to change, and Cleanup.
func TestSyncThousand(t *testing.T) {
	needNetns(t)
	if testing.Short() {
		t.Skip("short")
	}
	ctx := context.Background()
	b := newTestBackend(t, Config{})
	in := scaleInput(1000)
	st := proxy.Build(in)
	start := time.Now()
	mustSync(t, b, st)
	first := time.Since(start)

	name := st.Services[0].Name
	in.Endpoints[name] = []proxy.Endpoint{{IP: netip.MustParseAddr("127.0.0.3"), Port: 80, Ready: true, Serving: true}}
	in.Full, in.Changed, in.Previous = false, map[proxy.ServicePortName]bool{name: true}, st
	st = proxy.Build(in)
	start = time.Now()
	mustSync(t, b, st)
	partial := time.Since(start)

	in.Full, in.Changed, in.Previous = true, nil, nil
	st = proxy.Build(in)
	start = time.Now()
	mustSync(t, b, st)
	resync := time.Since(start)
	if len(b.listeners) != 1000 || len(b.vipRefs) != 1000 {
		t.Fatalf("%d listeners, %d addresses", len(b.listeners), len(b.vipRefs))
	}
	start = time.Now()
	if err := b.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("1,000 Services: first full sync %v, partial sync %v, full resync %v, cleanup %v", first, partial, resync, time.Since(start))
}
