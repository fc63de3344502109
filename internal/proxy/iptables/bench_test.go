package iptables

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// bigState is n ClusterIP Services with eps endpoints each.
func bigState(n, eps int) *proxy.State {
	in := proxy.Input{
		Family: corev1.IPv4Protocol, Node: proxytest.Node(), Options: proxytest.Options(),
		Services: map[proxy.ServicePortName]*proxy.ServicePort{}, Endpoints: proxy.EndpointsMap{}, Full: true,
	}
	for i := range n {
		name := proxy.ServicePortName{Port: "http", Protocol: corev1.ProtocolTCP}
		name.Namespace, name.Name = "bench", fmt.Sprintf("svc%d", i)
		in.Services[name] = &proxy.ServicePort{
			Name: name, ClusterIP: netip.AddrFrom4([4]byte{172, 30, byte(i >> 8), byte(i)}), Port: 80, Protocol: corev1.ProtocolTCP,
		}
		for j := range eps {
			in.Endpoints[name] = append(in.Endpoints[name], proxy.Endpoint{
				IP: netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), byte(j + 1)}), Port: 8080, Ready: true, Serving: true,
			})
		}
	}
	return proxy.Build(in)
}

func BenchmarkRender10k(b *testing.B) {
	st := bigState(10000, 10)
	be := &Backend{names: nameCache{}, written: map[proxy.ServicePortName][]string{}}
	be.build(st, true, nil) // warm the name cache, as every sync after the first
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		be.build(st, true, nil)
		n, _ := be.r.writeTo(io.Discard)
		b.SetBytes(n)
	}
}

func TestRenderSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	r := testing.Benchmark(BenchmarkRender10k)
	t.Logf("10,000 Services x 10 endpoints: %v per render, %d allocs, %d B", r.NsPerOp(), r.AllocsPerOp(), r.AllocedBytesPerOp())
	_ = context.Background
}
