package allocator

import (
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
)

func mustIPRange(t testing.TB, cidr string) *IPRange {
	t.Helper()
	r, err := NewIPRange(netip.MustParsePrefix(cidr))
	if err != nil {
		t.Fatalf("NewIPRange(%s): %v", cidr, err)
	}
	return r
}

// lowestFirst makes the random start of every scan the band's first offset.
func lowestFirst(b *bitmap) { b.randn = func(int) int { return 0 } }

func TestNewIPRange(t *testing.T) {
	tests := []struct {
		cidr       string
		size, band int
		first      string
		family     string
	}{
		{"10.96.0.0/12", 1<<20 - 2, 256, "10.96.0.1", "IPv4"},
		{"10.96.0.1/12", 1<<20 - 2, 256, "10.96.0.1", "IPv4"}, // masked
		{"10.0.0.0/24", 254, 16, "10.0.0.1", "IPv4"},
		{"10.0.0.0/20", 4094, 256, "10.0.0.1", "IPv4"},
		{"10.0.0.0/21", 2046, 128, "10.0.0.1", "IPv4"},
		{"10.0.0.0/27", 30, 16, "10.0.0.1", "IPv4"},
		{"10.0.0.0/28", 14, 0, "10.0.0.1", "IPv4"},
		{"10.0.0.0/29", 6, 0, "10.0.0.1", "IPv4"},
		{"fd00::/108", 65535, 256, "fd00::1", "IPv6"},
		{"fd00::/112", 65535, 256, "fd00::1", "IPv6"},
		{"fd00::/120", 255, 16, "fd00::1", "IPv6"},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			r := mustIPRange(t, tt.cidr)
			if r.bits.size != tt.size || r.bits.band != tt.band {
				t.Errorf("size, band = %d, %d; want %d, %d", r.bits.size, r.bits.band, tt.size, tt.band)
			}
			if got := r.FirstAddress().String(); got != tt.first {
				t.Errorf("FirstAddress = %s, want %s", got, tt.first)
			}
			if got := string(r.Family()); got != tt.family {
				t.Errorf("Family = %s, want %s", got, tt.family)
			}
			if r.Free() != tt.size || r.Used() != 0 {
				t.Errorf("Free, Used = %d, %d", r.Free(), r.Used())
			}
		})
	}
}

func TestNewIPRangeErrors(t *testing.T) {
	tests := []struct {
		cidr netip.Prefix
		want string
	}{
		{netip.MustParsePrefix("10.0.0.0/8"), "service CIDR 10.0.0.0/8 is too large; for 32-bit addresses, the mask must be >= 12"},
		{netip.MustParsePrefix("fd00::/64"), "service CIDR fd00::/64 is too large; for 128-bit addresses, the mask must be >= 108"},
		{netip.MustParsePrefix("10.0.0.0/30"), "service CIDR 10.0.0.0/30 is too small; the service cluster IP range must be at least 8 IP addresses"},
		{netip.Prefix{}, `invalid service CIDR "invalid Prefix"`},
	}
	for _, tt := range tests {
		_, err := NewIPRange(tt.cidr)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewIPRange(%v) = %v, want %q", tt.cidr, err, tt.want)
		}
	}
}

func TestIPRangeAllocate(t *testing.T) {
	r := mustIPRange(t, "10.96.0.0/12")
	if err := r.Allocate(netip.MustParseAddr("10.96.0.50")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want string
	}{
		{"10.96.0.50", "provided IP is already allocated"},
		{"10.96.0.0", "the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
		{"10.111.255.255", "the provided IP (10.111.255.255) is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
		{"1.1.1.1", "the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
		{"fd00::1", "the provided IP (fd00::1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
		{"10.96.0.1", ""},
		{"10.111.255.254", ""},
		{"::ffff:10.96.0.9", ""}, // IPv4-mapped form of an IPv4 address
	}
	for _, tt := range tests {
		err := r.Allocate(netip.MustParseAddr(tt.ip))
		if got := errText(err); got != tt.want {
			t.Errorf("Allocate(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
	if !errors.Is(r.Allocate(netip.MustParseAddr("10.96.0.50")), ErrAllocated) {
		t.Error("want ErrAllocated")
	}
	if !IsNotInRange(r.Allocate(netip.MustParseAddr("1.1.1.1"))) {
		t.Error("want IsNotInRange")
	}
	if r.Used() != 4 {
		t.Errorf("Used = %d, want 4", r.Used())
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A /27 has 30 usable addresses; the static band is the lower 16
// (10.0.0.1-10.0.0.16). Dynamic allocation takes all 14 upper ones first.
func TestIPRangeDynamicBandFirst(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/27")
	var got []netip.Addr
	for range 30 {
		ip, err := r.AllocateNext()
		if err != nil {
			t.Fatalf("after %d: %v", len(got), err)
		}
		got = append(got, ip)
	}
	static := netip.MustParseAddr("10.0.0.16")
	for i, ip := range got {
		if upper := static.Less(ip); upper != (i < 14) {
			t.Errorf("allocation %d = %s: in upper band = %v", i, ip, upper)
		}
	}
	if _, err := r.AllocateNext(); !errors.Is(err, ErrFull) || err.Error() != "range is full" {
		t.Errorf("31st AllocateNext = %v, want range is full", err)
	}
	slices.SortFunc(got, netip.Addr.Compare)
	if got = slices.Compact(got); len(got) != 30 || got[0].String() != "10.0.0.1" || got[29].String() != "10.0.0.30" {
		t.Errorf("allocated %v", got)
	}
}

// Upstream splits nothing when the CIDR has 16 addresses or fewer: a /28
// hands out its 14 addresses from anywhere.
func TestIPRangeSmallHasNoStaticBand(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/28")
	lowestFirst(r.bits)
	for want := 1; want <= 14; want++ {
		ip, err := r.AllocateNext()
		if err != nil || ip != netip.AddrFrom4([4]byte{10, 0, 0, byte(want)}) {
			t.Fatalf("AllocateNext = %v, %v; want 10.0.0.%d", ip, err, want)
		}
	}
	if _, err := r.AllocateNext(); !errors.Is(err, ErrFull) {
		t.Fatalf("want ErrFull, got %v", err)
	}
}

// With the static band's upper addresses taken by hand, dynamic allocation
// wraps around the dynamic band before it touches the static one.
func TestIPRangeScanWrapsAround(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/24")              // static 10.0.0.1-16, dynamic .17-.254
	r.bits.randn = func(n int) int { return n - 1 } // start at .254
	want := []string{"10.0.0.254", "10.0.0.17", "10.0.0.18"}
	for _, w := range want {
		ip, err := r.AllocateNext()
		if err != nil || ip.String() != w {
			t.Fatalf("AllocateNext = %v, %v; want %s", ip, err, w)
		}
	}
}

func TestIPRangeReleaseMakesReusable(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/29") // 6 usable
	for range 6 {
		if _, err := r.AllocateNext(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.AllocateNext(); !errors.Is(err, ErrFull) {
		t.Fatalf("want ErrFull, got %v", err)
	}
	ip := netip.MustParseAddr("10.0.0.3")
	if err := r.Release(ip); err != nil || r.Has(ip) || r.Free() != 1 {
		t.Fatalf("Release: %v, Has %v, Free %d", err, r.Has(ip), r.Free())
	}
	// Releasing again, or outside the range, is a no-op.
	if r.Release(ip) != nil || r.Release(netip.MustParseAddr("1.2.3.4")) != nil || r.Free() != 1 {
		t.Fatal("second release changed something")
	}
	if got, err := r.AllocateNext(); err != nil || got != ip {
		t.Fatalf("AllocateNext = %v, %v; want %s", got, err, ip)
	}
}

// An IPv6 /108 has 2^20 addresses; like upstream, the bitmap keeps the
// first 65535 usable ones (8 KiB) and reports the others as out of range.
func TestIPRangeIPv6(t *testing.T) {
	r := mustIPRange(t, "fd00:10:96::/108")
	if len(r.bits.words) != 1024 {
		t.Errorf("bitmap has %d words, want 1024", len(r.bits.words))
	}
	lowestFirst(r.bits)
	if ip, _ := r.AllocateNext(); ip.String() != "fd00:10:96::101" {
		t.Errorf("first dynamic = %s, want fd00:10:96::101 (after the 256 static)", ip)
	}
	ok := []string{"fd00:10:96::1", "fd00:10:96::ffff"}
	for _, s := range ok {
		if err := r.Allocate(netip.MustParseAddr(s)); err != nil {
			t.Errorf("Allocate(%s): %v", s, err)
		}
	}
	err := r.Allocate(netip.MustParseAddr("fd00:10:96::1:0"))
	want := "the provided IP (fd00:10:96::1:0) is not in the valid range. The range of valid IPs is fd00:10:96::/108"
	if errText(err) != want {
		t.Errorf("Allocate beyond the cap = %v, want %q", err, want)
	}
	var got []string
	r.ForEach(func(ip netip.Addr) { got = append(got, ip.String()) })
	if want := []string{"fd00:10:96::1", "fd00:10:96::101", "fd00:10:96::ffff"}; !slices.Equal(got, want) {
		t.Errorf("ForEach = %v, want %v", got, want)
	}
}

func TestIPRangeDryRun(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/24")
	taken := netip.MustParseAddr("10.0.0.9")
	_ = r.Allocate(taken)
	dry := r.DryRun()
	if !errors.Is(dry.Allocate(taken), ErrAllocated) {
		t.Error("dry run does not see existing allocations")
	}
	ip, err := dry.AllocateNext()
	if err != nil || ip == taken {
		t.Fatalf("dry AllocateNext = %v, %v", ip, err)
	}
	if r.Has(ip) || r.Used() != 1 {
		t.Error("dry run changed the real range")
	}
}

func TestIPRangeSnapshotRestore(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/24")
	for _, s := range []string{"10.0.0.1", "10.0.0.77", "10.0.0.254"} {
		_ = r.Allocate(netip.MustParseAddr(s))
	}
	cidr, data := r.Snapshot()
	other := mustIPRange(t, "10.0.0.0/24")
	if err := other.Restore(cidr, data); err != nil {
		t.Fatal(err)
	}
	if other.Used() != 3 || !other.Has(netip.MustParseAddr("10.0.0.77")) {
		t.Errorf("restored Used = %d", other.Used())
	}
	if err := mustIPRange(t, "10.0.1.0/24").Restore(cidr, data); !errors.Is(err, ErrMismatchedNetwork) {
		t.Errorf("Restore into another CIDR = %v", err)
	}
}

// Twenty goroutines allocating at once get distinct addresses.
func TestIPRangeConcurrentAllocateNext(t *testing.T) {
	r := mustIPRange(t, "10.0.0.0/24")
	const workers, each = 20, 12 // 240 of 254
	results := make(chan netip.Addr, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				ip, err := r.AllocateNext()
				if err != nil {
					t.Error(err)
					return
				}
				results <- ip
			}
		})
	}
	wg.Wait()
	close(results)
	seen := map[netip.Addr]bool{}
	for ip := range results {
		if seen[ip] {
			t.Errorf("%s handed out twice", ip)
		}
		seen[ip] = true
	}
	if len(seen) != workers*each || r.Used() != workers*each {
		t.Errorf("got %d distinct, Used %d", len(seen), r.Used())
	}
}
