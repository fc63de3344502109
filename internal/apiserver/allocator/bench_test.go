package allocator

import (
	"net/netip"
	"testing"
)

// BenchmarkAllocateNext fills a /16 (65534 addresses) over and over: the
// cost of AllocateNext averaged over an empty to a full range.
func BenchmarkAllocateNext(b *testing.B) {
	r := mustIPRange(b, "10.0.0.0/16")
	for b.Loop() {
		if _, err := r.AllocateNext(); err != nil {
			b.StopTimer()
			r = mustIPRange(b, "10.0.0.0/16")
			b.StartTimer()
		}
	}
}

// BenchmarkAllocateNextNearlyFull allocates and releases one address of a
// /16 with one address free: the worst case, a scan of the whole bitmap.
func BenchmarkAllocateNextNearlyFull(b *testing.B) {
	r := mustIPRange(b, "10.0.0.0/16")
	for r.Free() > 0 {
		if _, err := r.AllocateNext(); err != nil {
			b.Fatal(err)
		}
	}
	free := netip.MustParseAddr("10.0.0.7")
	_ = r.Release(free)
	for b.Loop() {
		ip, err := r.AllocateNext()
		if err != nil {
			b.Fatal(err)
		}
		_ = r.Release(ip)
	}
}

// BenchmarkCreateNodePortService is the allocation work of creating one
// NodePort Service with two ports, then deleting it.
func BenchmarkCreateNodePortService(b *testing.B) {
	a := newAllocators(b, "")
	for b.Loop() {
		svc := service("web", "NodePort", port("http", "TCP", 80, 0), port("https", "TCP", 443, 0))
		txn, err := a.Create(svc, false)
		if err != nil {
			b.Fatal(err)
		}
		_ = txn.Commit()
		_ = a.Release(svc)
	}
}
