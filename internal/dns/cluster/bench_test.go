package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	mdns "github.com/miekg/dns"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// benchObjects returns the objects of bench/dns's API server: services
// Services in 10 namespaces (one in ten headless, ports http/TCP and
// dns/UDP), each with one EndpointSlice of perService ready endpoints
// from 10.128.0.1 (hostnames on the headless ones).
func benchObjects(services, perService int) []any {
	var objs []any
	for i := range 10 {
		objs = append(objs, namespace(fmt.Sprintf("ns-%d", i)))
	}
	for i := range services {
		ns, name := fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("svc-%d", i)
		headless := i%10 == 0
		if headless {
			objs = append(objs, headlessService(ns, name, false, servicePort("http", "TCP", 80), servicePort("dns", "UDP", 53)))
		} else {
			ip := netip.AddrFrom4([4]byte{10, 96, byte((i + 1) >> 8), byte(i + 1)})
			objs = append(objs, clusterIPService(ns, name, []string{ip.String()}, servicePort("http", "TCP", 80), servicePort("dns", "UDP", 53)))
		}
		var list []discoveryv1.Endpoint
		for j := range perService {
			k := i*perService + j + 1
			ip := netip.AddrFrom4([4]byte{10, 128 + byte(k>>16), byte(k >> 8), byte(k)}).String()
			host := ""
			if headless {
				host = fmt.Sprintf("ep-%d", j)
			}
			list = append(list, readyEP(ip, host))
		}
		objs = append(objs, endpointSlice(ns, name+"-1", name,
			[]discoveryv1.EndpointPort{slicePort("http", "TCP", 8080), slicePort("dns", "UDP", 53)}, list...))
	}
	return objs
}

// benchMix is bench/dns's mix of cluster names: 50 A of Services, 15
// SRV, 20 NXDOMAIN (half of them search-path expansions).
func benchMix(services int) []*mdns.Msg {
	var out []*mdns.Msg
	add := func(name string, t uint16) { out = append(out, new(mdns.Msg).SetQuestion(name, t)) }
	for r := range 85 {
		i := (r * 7919) % services
		ns := fmt.Sprintf("ns-%d", i%10)
		switch {
		case r < 50:
			add(fmt.Sprintf("svc-%d.%s.svc.cluster.local.", i, ns), mdns.TypeA)
		case r < 65:
			add(fmt.Sprintf("_http._tcp.svc-%d.%s.svc.cluster.local.", i, ns), mdns.TypeSRV)
		case r%2 == 0:
			add(fmt.Sprintf("missing-%d.%s.svc.cluster.local.", i, ns), mdns.TypeA)
		default:
			add(fmt.Sprintf("host-%d.bench.example.%s.svc.cluster.local.", r, ns), mdns.TypeA)
		}
	}
	return out
}

// BenchmarkAnswerMix answers bench/dns's cluster names over 1,000
// Services and 10,000 endpoints (one op is one query).
func BenchmarkAnswerMix(b *testing.B) {
	c := newBenchCluster(b, 1000, 10)
	qs := benchMix(1000)
	client := netip.MustParseAddr("10.244.0.5")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if c.Answer(context.Background(), qs[i%len(qs)], client) == nil {
			b.Fatal("no answer")
		}
		i++
	}
}

func newBenchCluster(tb testing.TB, services, perService int) *Cluster {
	tb.Helper()
	c := New(Config{Pods: PodsInsecure})
	for _, o := range benchObjects(services, perService) {
		c.idx.set(o)
	}
	c.ready.Store(true)
	return c
}

// TestIndexMemory logs the heap the index takes at bench/dns's size and
// ten times that (-v shows it); it checks nothing but that it builds.
func TestIndexMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 110,000 endpoints")
	}
	for _, size := range []struct{ services, perService int }{{1000, 10}, {10000, 10}} {
		objs := benchObjects(size.services, size.perService)
		before := heapInUse()
		c := New(Config{})
		for _, o := range objs {
			c.idx.set(o)
		}
		objs = nil
		after := heapInUse()
		st := c.Stats()
		t.Logf("%d Services, %d endpoints: index %.1f MiB", st.Services, st.Endpoints, float64(after-before)/(1<<20))
		runtime.KeepAlive(c)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
